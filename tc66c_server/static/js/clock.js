// The server's clock as seen from the page. Windows ("last 5 min") and "since" times are the
// server's; the browser's clock may be off (another machine, no NTP), so the page keeps the
// offset it observes in the server's answers.

let offsetS = 0;

/** Record a moment the server says is "now" (unix seconds), e.g. sample time + its age. */
export function noteServerNow(serverNowS) {
  if (Number.isFinite(serverNowS)) offsetS = serverNowS - Date.now() / 1000;
}

/** The server's current time in unix seconds. */
export function serverNow() {
  return Date.now() / 1000 + offsetS;
}

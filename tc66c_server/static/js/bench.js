// The bench's meters as the page sees them: which one is selected (and its place in the URL
// hash, so a link opens that meter), each meter's colour, its link state in words, and what
// a refused write means. Pure functions, no DOM.

/** How many distinct meter colours the stylesheet defines (`--m0` ... `--m7`). */
export const METER_COLOURS = 8;

/** A meter id as the server accepts it (see `POST api/meters`). */
const METER_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;

/** The meter named in a URL hash (`#meter=out`, also among other `key=value` parts), or null. */
export function parseMeterHash(hash) {
  const text = String(hash || "").replace(/^#/, "");
  if (!text.includes("=")) return null; // a plain anchor such as #charts
  const id = new URLSearchParams(text).get("meter");
  return id && METER_ID.test(id) ? id : null;
}

/** The URL hash that selects meter `id` (`#meter=out`). */
export function meterHash(id) {
  return `#meter=${encodeURIComponent(id)}`;
}

/** The meter to show: `wanted` when the bench has it, else the current one, else the first. */
export function pickMeter(ids, wanted, current = null) {
  if (wanted && ids.includes(wanted)) return wanted;
  if (current && ids.includes(current)) return current;
  return ids.length ? ids[0] : null;
}

/** The colour slot (0..7) of the meter at `index` in the bench's order. */
export function colourSlot(index) {
  const i = Number.isInteger(index) && index >= 0 ? index : 0;
  return i % METER_COLOURS;
}

/** A meter's link state: "connected", "disconnected" or "unknown" (not reported yet). */
export function linkState(meter) {
  if (!meter || typeof meter.connected !== "boolean") return "unknown";
  return meter.connected ? "connected" : "disconnected";
}

/**
 * The catalog key explaining a refused write (`ApiError`-like: status and code): the token,
 * an offline meter, an unreachable server, or the server's own message.
 */
export function writeErrorKey(err) {
  const status = err && Number.isInteger(err.status) ? err.status : -1;
  if (status === 401 || status === 403) return "write.need_token";
  if (status === 409 && err.code === "meter_offline") return "write.offline";
  if (status === 0) return "write.unreachable";
  return "write.failed";
}

/**
 * The form field an error of `POST api/meters` is about: its `details.fields` key, as the
 * bare name (`port`) or the saved config's path (`meters[2].port`).
 */
export function meterFieldName(key) {
  return String(key).replace(/^meters\[\d+\]\./, "");
}

/**
 * The body of `POST api/meters` from the add-meter form's texts: the port always (the server
 * names what is wrong with it), the id and interval only when typed; `parseNumber` reads the
 * interval in the page's locale (a text that is not a number goes as typed).
 */
export function newMeterBody({ port, name, interval }, parseNumber) {
  const body = { port: String(port ?? "").trim() };
  const id = String(name ?? "").trim();
  if (id) body.id = id;
  const rawInterval = String(interval ?? "").trim();
  if (rawInterval) {
    const n = parseNumber(rawInterval);
    body.polling_interval = Number.isFinite(n) ? n : rawInterval;
  }
  return body;
}

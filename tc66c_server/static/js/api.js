// The HTTP client of the server's API: JSON requests with the contract's error shape, the
// write token, URL builders, and the live feed (event stream, polling when it fails).
// Every URL is relative so the page works behind a reverse-proxy prefix.

import { formatPeriod } from "./windows.js";

const TOKEN_KEY = "tc66c.token";

/** An API error answer: HTTP status plus the contract's {code, message, details}. */
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

/** The write token remembered in this browser ("" when none). */
export function getToken() {
  try {
    return localStorage.getItem(TOKEN_KEY) || "";
  } catch {
    return "";
  }
}

/** Remember (or, with "", forget) the write token. */
export function setToken(token) {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage can be disabled (private mode): the token then lasts until the page closes.
  }
}

async function request(path, init = {}) {
  let response;
  try {
    response = await fetch(path, { cache: "no-store", ...init });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "network", err.message || "network error");
  }
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const e = body && body.error ? body.error : {};
    throw new ApiError(response.status, e.code || "http_error", e.message || response.statusText,
      e.details);
  }
  return body;
}

/** GET a JSON resource (path relative to the page, e.g. "api/status"). */
export function getJson(path, signal) {
  return request(path, { signal, headers: { Accept: "application/json" } });
}

function writeHeaders() {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  return headers;
}

/** POST a JSON body, sending the remembered write token when there is one. */
export function postJson(path, body) {
  return request(path, { method: "POST", headers: writeHeaders(), body: JSON.stringify(body) });
}

/** PATCH a resource with a JSON body (with the write token). */
export function patchJson(path, body) {
  return request(path, { method: "PATCH", headers: writeHeaders(), body: JSON.stringify(body) });
}

/** DELETE a resource (with the write token); resolves to the answer's JSON body or null. */
export function deleteJson(path) {
  return request(path, { method: "DELETE", headers: writeHeaders() });
}

/**
 * The API path of `rest` for one meter: `api/meters/<id>/<rest>`, or the seed's route
 * `api/<rest>` (the first meter) when `meter` is null (a server without `api/meters`).
 */
export function meterApi(meter, rest) {
  return meter ? `api/meters/${encodeURIComponent(meter)}/${rest}` : `api/${rest}`;
}

/** The URL of a pair's results over `period` (`api/pairs/<id>/<period>`). */
export function pairUrl(pair, period, { maxPoints } = {}) {
  const base = `api/pairs/${encodeURIComponent(pair)}/${encodeURIComponent(period)}`;
  return maxPoints ? `${base}?max_points=${Math.max(2, Math.round(maxPoints))}` : base;
}

/**
 * The URL of `api/data/<period>` (of `meter`, see `meterApi`) with its options. With `end`
 * (unix seconds) the period is the one ending then instead of now: a zoomed span.
 */
export function dataUrl(period, { meter = null, maxPoints, fields, format, end } = {}) {
  const params = new URLSearchParams();
  if (fields) params.set("fields", fields);
  if (maxPoints) params.set("max_points", String(Math.max(2, Math.round(maxPoints))));
  if (format) params.set("format", format);
  if (Number.isFinite(end)) params.set("end", end.toFixed(3));
  const query = params.toString();
  return meterApi(meter, `data/${encodeURIComponent(period)}${query ? `?${query}` : ""}`);
}

/** The URL of the samples between `start` and `end` (unix seconds), as `dataUrl` options. */
export function rangeUrl(start, end, options = {}) {
  return dataUrl(formatPeriod(end - start), { ...options, end });
}

const RETRY_FIRST_MS = 5000;
const RETRY_MAX_MS = 60000;

/**
 * The live feed: `sample` and `connection` events from `api/stream` (every meter's, each
 * naming its `meter`). When the stream fails it calls `poll` every polling interval (by
 * default: `api/data/latest` to `onSample`) and tries the stream again later (5 s, then
 * doubling up to a minute).
 */
export class LiveFeed {
  constructor({ onSample, onConnection, onMode, poll }) {
    this.onSample = onSample;
    this.onConnection = onConnection;
    this.onMode = onMode || (() => {});
    this.poll = poll || (async () => this.onSample(await getJson("api/data/latest")));
    this.intervalS = 1;
    this.source = null;
    this.pollTimer = null;
    this.retryTimer = null;
    this.retryMs = RETRY_FIRST_MS;
    this.mode = "connecting";
  }

  start() {
    this.#openStream();
  }

  /** Follow a new polling interval (used while polling). */
  setInterval(intervalS) {
    if (!(intervalS > 0) || intervalS === this.intervalS) return;
    this.intervalS = intervalS;
    if (this.pollTimer) {
      this.#stopPolling();
      this.#startPolling();
    }
  }

  stop() {
    this.source?.close();
    this.source = null;
    this.#stopPolling();
    clearTimeout(this.retryTimer);
  }

  #setMode(mode) {
    if (mode !== this.mode) {
      this.mode = mode;
      this.onMode(mode);
    }
  }

  #openStream() {
    if (typeof EventSource === "undefined") {
      this.#startPolling();
      return;
    }
    const source = new EventSource("api/stream");
    this.source = source;
    source.addEventListener("open", () => {
      this.retryMs = RETRY_FIRST_MS;
      this.#stopPolling();
      this.#setMode("stream");
    });
    source.addEventListener("sample", (e) => this.#deliver(this.onSample, e.data));
    source.addEventListener("connection", (e) => this.#deliver(this.onConnection, e.data));
    source.addEventListener("error", () => {
      // Take over from the browser's own retry so the page keeps updating meanwhile.
      source.close();
      if (this.source !== source) return;
      this.source = null;
      this.#startPolling();
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.#openStream(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    });
  }

  #deliver(handler, data) {
    let parsed;
    try {
      parsed = JSON.parse(data);
    } catch {
      return;
    }
    handler(parsed);
  }

  #startPolling() {
    this.#setMode("polling");
    if (this.pollTimer) return;
    const poll = async () => {
      try {
        await this.poll();
      } catch {
        // No sample yet (503) or server away: the status poll reports it.
      }
    };
    poll();
    this.pollTimer = setInterval(poll, Math.max(250, this.intervalS * 1000));
  }

  #stopPolling() {
    clearInterval(this.pollTimer);
    this.pollTimer = null;
  }
}

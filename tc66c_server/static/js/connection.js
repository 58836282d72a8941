// The connection panel: is the meter connected, since when, which meter, and when it is not,
// why (in plain words) and that the server keeps retrying. Also the demo badge, and a warning
// while the server cannot write its samples to disk (`store_error` in api/status).

import { serverNow } from "./clock.js";
import { byTestId, el, setText } from "./dom.js";
import { formatDateTime, formatDuration, formatNumber, parseTimestamp } from "./format.js";
import { locale, t } from "./i18n.js";

/** Error codes the server reports, each with a catalog entry explaining it. */
const KNOWN_ERRORS = new Set([
  "port_not_found",
  "permission_denied",
  "timeout",
  "bad_packet",
  "disconnected",
  "port_error",
  "bootloader",
]);

const COUNTERS = ["polls", "samples", "bad_packets", "timeouts", "reconnects", "missed_slots"];

/** Store fault codes the server reports, each with a catalog entry explaining it. */
const KNOWN_STORE_ERRORS = new Set(["disk_full", "read_only", "io_error", "busy"]);

/** The plain-words explanation of a `last_error` ({code, message}) for `port`. */
export function describeError(lastError, port) {
  if (!lastError) return "";
  const code = KNOWN_ERRORS.has(lastError.code) ? lastError.code : "other";
  return t(`err.${code}`, { port: port || "?", message: lastError.message || "" });
}

/** The plain-words explanation of a `store_error` ({code, message, since, backlog, lost}). */
export function describeStoreError(storeError) {
  if (!storeError) return "";
  const code = KNOWN_STORE_ERRORS.has(storeError.code) ? storeError.code : "other";
  return t(`store.err.${code}`);
}

export class ConnectionPanel {
  constructor(root, badge) {
    this.root = root;
    this.badge = badge;
    this.stateEl = byTestId("conn-state", root);
    this.stateText = root.querySelector(".conn-state-text");
    this.sinceEl = root.querySelector(".conn-since");
    this.deviceEl = byTestId("device", root);
    this.portEl = root.querySelector(".conn-port");
    this.errorBox = root.querySelector(".conn-error");
    this.errorText = root.querySelector(".conn-error-text");
    this.errorDetail = root.querySelector(".conn-error-detail");
    this.counters = root.querySelector(".counters");
    this.storeBox = byTestId("store-error", root);
    this.storeText = root.querySelector(".store-error-text");
    this.storeHeld = root.querySelector(".store-error-held");
    this.storeDetail = root.querySelector(".store-error-detail");
    this.model = null; // merged api/status + stream `connection` events
    this.reachable = true;
  }

  /** Take a full `api/status` answer. */
  updateStatus(status) {
    this.reachable = true;
    this.model = { ...status };
    this.render();
  }

  /** Take a stream `connection` event ({connected, port, since, last_error, device}). */
  updateConnection(event) {
    this.reachable = true;
    this.model = { ...(this.model || {}), ...event };
    this.render();
  }

  /** The server itself does not answer. */
  serverUnreachable() {
    this.reachable = false;
    this.render();
  }

  state() {
    if (!this.reachable) return "offline";
    if (!this.model) return "unknown";
    return this.model.connected ? "connected" : "disconnected";
  }

  render() {
    const m = this.model || {};
    const state = this.state();
    this.stateEl.dataset.state = state;
    this.root.dataset.state = state;
    setText(this.stateText, t(`conn.state.${state}`));

    this.badge.hidden = !m.demo;

    const device = m.device;
    this.deviceEl.replaceChildren();
    if (device) {
      const parts = [
        [t("conn.model"), device.product],
        [t("conn.firmware"), device.firmware],
        [t("conn.serial"), device.serial],
      ];
      for (const [label, value] of parts) {
        const item = el("span", { class: "device-item" });
        item.append(el("span", { class: "device-label" }, label), " ");
        item.append(el("span", { class: "device-value" }, String(value ?? "—")));
        this.deviceEl.append(item);
      }
    } else {
      this.deviceEl.append(el("span", { class: "muted" }, t("conn.no_device")));
    }

    let portText = m.port ? t("conn.port", { port: m.port }) : "";
    if (m.port && m.device_path && m.device_path !== m.port) {
      // "auto" or "demo": say which device it resolved to.
      portText = t("conn.port_resolved", { port: m.port, path: m.device_path });
    }
    setText(this.portEl, portText);

    const showError = state === "disconnected" && Boolean(m.last_error);
    this.errorBox.hidden = !(showError || state === "offline");
    if (state === "offline") {
      setText(this.errorText, t("conn.server_unreachable"));
      setText(this.errorDetail, "");
    } else if (showError) {
      setText(this.errorText, describeError(m.last_error, m.port));
      setText(this.errorDetail, m.last_error.message || "");
    }

    this.#renderStoreError(state === "offline" ? null : m.store_error);
    this.#renderCounters(m.counters);
    this.tick();
  }

  #renderStoreError(storeError) {
    this.storeBox.hidden = !storeError;
    if (!storeError) return;
    setText(this.storeText, describeStoreError(storeError));
    const since = parseTimestamp(storeError.since);
    const held = t("store.held", {
      backlog: formatNumber(locale(), storeError.backlog, 0),
      lost: formatNumber(locale(), storeError.lost, 0),
      since: Number.isFinite(since) ? formatDateTime(locale(), since) : "?",
    });
    setText(this.storeHeld, held);
    setText(this.storeDetail, storeError.message || "");
  }

  /** Refresh the relative "since" text (called every second). */
  tick() {
    const m = this.model;
    const state = this.state();
    if (!m || !m.since || state === "offline" || state === "unknown") {
      setText(this.sinceEl, "");
      return;
    }
    const since = parseTimestamp(m.since);
    if (!Number.isFinite(since)) return;
    const elapsed = serverNow() - since;
    const key = state === "connected" ? "conn.since_connected" : "conn.since_disconnected";
    setText(this.sinceEl, t(key, { duration: formatDuration(locale(), elapsed) }));
    this.sinceEl.title = formatDateTime(locale(), since);
  }

  #renderCounters(counters) {
    this.counters.replaceChildren();
    if (!counters) return;
    for (const name of COUNTERS) {
      if (!(name in counters)) continue;
      const row = el("div");
      row.append(el("dt", {}, t(`counter.${name}`)));
      row.append(el("dd", {}, formatNumber(locale(), counters[name], 0)));
      this.counters.append(row);
    }
  }
}

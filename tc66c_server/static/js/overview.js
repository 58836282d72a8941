// The bench overview: one card per meter (name, live V / I / P, link state in words, model,
// firmware, serial, sample age) with its controls (screen rotate / next / previous, remove).
// Choosing a card makes it the meter the detail panels show; main.js does the switching.
// A UM meter's card also lists its 10 data groups (select one, clear the selected one).

import { deleteJson, meterApi, postJson } from "./api.js";
import { colourSlot, linkState, writeErrorKey } from "./bench.js";
import { describeError } from "./connection.js";
import { el, setText } from "./dom.js";
import { formatDuration, formatQuantity, parseTimestamp } from "./format.js";
import { locale, t } from "./i18n.js";
import { STALE_INTERVALS } from "./live.js";

const VALUES = [
  ["voltage", "V"],
  ["current", "A"],
  ["power", "W"],
];
const SCREEN = [
  ["previous", "◀"],
  ["rotate", "⟳"],
  ["next", "▶"],
];
const MESSAGE_MS = 4000;
const UM_GROUPS = 10;

export class Overview {
  /**
   * @param {HTMLElement} root the bench panel
   * @param {{onSelect: (id: string) => void, onChanged: () => void}} handlers `onChanged`
   *   after a meter was removed
   */
  constructor(root, { onSelect, onChanged }) {
    this.root = root;
    this.list = root.querySelector(".meter-cards");
    this.onSelect = onSelect;
    this.onChanged = onChanged;
    this.meters = []; // api/meters entries, merged with live events
    this.cards = new Map(); // id -> {node, parts, sample, receivedAtMs, message...}
    this.selected = null;
  }

  /** Show the bench (`api/meters`' list) with `selected` chosen. */
  setMeters(meters, selected) {
    const ids = meters.map((m) => m.id);
    if (ids.join("\n") !== [...this.cards.keys()].join("\n")) this.#rebuild(ids);
    this.meters = meters;
    this.selected = selected;
    this.root.dataset.count = String(meters.length);
    meters.forEach((m, index) => {
      const card = this.cards.get(m.id);
      card.meter = { ...card.meter, ...m };
      card.slot = colourSlot(index);
      if (m.last_sample) this.#take(card, m.last_sample);
    });
    this.render();
  }

  setSelected(id) {
    this.selected = id;
    this.render();
  }

  /** A live sample of meter `id`. */
  onSample(id, sample) {
    const card = this.cards.get(id);
    if (!card) return;
    this.#take(card, sample);
    this.#renderValues(card);
    this.#renderAge(card);
  }

  /** A stream `connection` event (it names its `meter`). */
  onConnection(event) {
    const card = this.cards.get(event.meter);
    if (!card) return;
    const { device, ...rest } = event;
    card.meter = { ...card.meter, ...rest };
    if (device) {
      card.meter.model = device.product;
      card.meter.firmware = device.firmware;
      card.meter.serial = device.serial;
    }
    this.#renderCard(card);
  }

  /** Redraw every card (new data or a language switch). */
  render() {
    for (const card of this.cards.values()) this.#renderCard(card);
  }

  /** Refresh the sample ages (called a few times a second). */
  tick() {
    for (const card of this.cards.values()) this.#renderAge(card);
  }

  #take(card, sample) {
    // The stream and the meters list can deliver the same sample: keep the newest.
    if (card.sample && !(parseTimestamp(sample.timestamp) > parseTimestamp(card.sample.timestamp))) {
      return;
    }
    card.sample = sample;
    card.sampleAgeS = Number.isFinite(sample.age_s) ? Math.max(0, sample.age_s) : 0;
    card.receivedAtMs = performance.now();
  }

  #rebuild(ids) {
    const old = this.cards;
    this.cards = new Map();
    for (const id of ids) this.cards.set(id, old.get(id) || this.#newCard(id));
    this.list.replaceChildren(...[...this.cards.values()].map((c) => c.node));
  }

  #newCard(id) {
    const node = el("article", { class: "meter-card", "data-testid": "meter-card", "data-meter": id });
    node.setAttribute("role", "listitem");
    const select = el("button", { type: "button", class: "card-select", "data-testid": "meter-select" });
    const name = el("span", { class: "card-name" }, id);
    const stateText = el("span", { class: "card-state-text" });
    const state = el("span", { class: "card-state" });
    state.append(el("span", { class: "dot", "aria-hidden": "true" }), stateText);
    select.append(el("span", { class: "card-swatch", "aria-hidden": "true" }), name, state);

    const values = el("div", { class: "card-values" });
    const nums = {};
    for (const [key, unit] of VALUES) {
      const box = el("span", { class: `cv q-${key}` });
      const label = el("span", { class: "cv-label" });
      nums[key] = el("span", { class: "cv-num", "data-testid": `card-${key}`, "data-value": "" }, "—");
      const reading = el("span", { class: "cv-reading" });
      reading.append(nums[key], el("span", { class: "cv-unit" }, unit));
      box.append(label, reading);
      values.append(box);
      nums[`${key}Label`] = label;
    }
    const um = el("div", { class: "card-um", "data-testid": "card-um" });
    um.hidden = true;
    const umTitle = el("p", { class: "card-um-title" });
    const umList = el("ol", { class: "card-um-groups" });
    const groupButtons = [];
    for (let g = 0; g < UM_GROUPS; g += 1) {
      const b = el("button", { type: "button", class: "btn btn-group", "data-testid": `um-group-${g}` });
      b.addEventListener("click", () => this.#screen(id, `select_group_${g}`));
      const item = el("li");
      item.append(b);
      umList.append(item);
      groupButtons.push(b);
    }
    const clearGroup = el("button", { type: "button", class: "btn btn-um-clear", "data-testid": "um-clear-group" });
    clearGroup.addEventListener("click", () => this.#screen(id, "clear_group"));
    um.append(umTitle, umList, clearGroup);
    const device = el("p", { class: "card-device", "data-testid": "card-device" });
    const age = el("p", { class: "card-age", "data-testid": "card-age" });
    const error = el("p", { class: "card-error" });

    const controls = el("div", { class: "card-controls" });
    const screen = el("span", { class: "card-screen", role: "group" });
    const screenButtons = {};
    for (const [action, glyph] of SCREEN) {
      const b = el("button", { type: "button", class: "btn btn-screen", "data-testid": `screen-${action}` }, glyph);
      b.addEventListener("click", () => this.#screen(id, action));
      screenButtons[action] = b;
      screen.append(b);
    }
    const remove = el("button", { type: "button", class: "btn btn-remove", "data-testid": "meter-remove" });
    controls.append(screen, remove);

    const confirm = el("div", { class: "card-confirm", "data-testid": "meter-remove-ask" });
    confirm.hidden = true;
    const confirmText = el("span");
    const yes = el("button", { type: "button", class: "btn btn-danger", "data-testid": "meter-remove-confirm" });
    const no = el("button", { type: "button", class: "btn", "data-testid": "meter-remove-cancel" });
    confirm.append(confirmText, yes, no);
    const message = el("p", { class: "card-message", role: "status", "aria-live": "polite" });

    node.append(select, values, um, device, age, error, controls, confirm, message);

    const card = {
      id,
      node,
      parts: { select, name, stateText, nums, device, age, error, screen, screenButtons, remove,
        confirm, confirmText, yes, no, message, um, umTitle, groupButtons, clearGroup },
      meter: { id },
      slot: 0,
      sample: null,
      sampleAgeS: 0,
      receivedAtMs: 0,
      messageKey: null,
      messageParams: null,
      messageTimer: null,
    };
    select.addEventListener("click", () => this.onSelect(id));
    values.addEventListener("click", () => this.onSelect(id));
    remove.addEventListener("click", () => {
      confirm.hidden = false;
      controls.hidden = true;
      no.focus();
    });
    no.addEventListener("click", () => this.#closeConfirm(card));
    yes.addEventListener("click", () => this.#remove(card));
    return card;
  }

  #renderCard(card) {
    const p = card.parts;
    const m = card.meter;
    const selected = card.id === this.selected;
    card.node.className = `meter-card m-c${card.slot}`;
    card.node.dataset.selected = String(selected);
    p.select.setAttribute("aria-pressed", String(selected));
    p.select.title = t("bench.show_meter", { meter: card.id });
    const name = m.name && m.name !== card.id ? `${m.name} (${card.id})` : card.id;
    setText(p.name, name);
    const state = linkState(m);
    card.node.dataset.state = state;
    setText(p.stateText, t(`conn.state.${state}`));

    const missing = "—";
    const device = m.model || m.firmware || m.serial
      ? t("bench.device", {
          model: m.model ?? missing,
          firmware: m.firmware ?? missing,
          serial: m.serial ?? missing,
        })
      : t("conn.no_device");
    setText(p.device, device);
    p.device.title = m.port ? t("conn.port", { port: m.port }) : "";
    const showError = state === "disconnected" && Boolean(m.last_error);
    setText(p.error, showError ? describeError(m.last_error, m.port) : "");
    p.error.hidden = !showError;

    p.screen.setAttribute("aria-label", t("bench.screen"));
    for (const [action] of SCREEN) {
      const b = p.screenButtons[action];
      const label = t(`bench.screen_${action}`);
      b.setAttribute("aria-label", label);
      b.title = label;
      b.disabled = state !== "connected";
    }
    p.remove.hidden = this.cards.size < 2; // the server keeps at least one meter
    setText(p.remove, t("bench.remove"));
    setText(p.confirmText, t("bench.remove_ask", { meter: card.id }));
    setText(p.yes, t("bench.remove"));
    setText(p.no, t("bench.cancel"));
    if (card.messageKey) {
      setText(p.message, t(card.messageKey, card.messageParams || {}));
    }
    this.#renderValues(card);
    this.#renderAge(card);
  }

  #renderValues(card) {
    const loc = locale();
    const s = card.sample;
    for (const [key] of VALUES) {
      const node = card.parts.nums[key];
      const v = s && typeof s[key] === "number" ? s[key] : null;
      node.dataset.value = v === null ? "" : String(v);
      setText(node, formatQuantity(loc, key, v));
      setText(card.parts.nums[`${key}Label`], t(`q.${key}`));
    }
    this.#renderUm(card);
  }

  /** A UM meter's data groups (mAh / mWh each, the selected one pressed) and its commands. */
  #renderUm(card) {
    const p = card.parts;
    const s = card.sample;
    const isUm = Boolean(s) && Number.isInteger(s.selected_group);
    p.um.hidden = !isUm;
    if (!isUm) return;
    const offline = linkState(card.meter) !== "connected";
    setText(p.umTitle, t("bench.um_groups", { mode: String(s.charging_mode ?? "—") }));
    p.groupButtons.forEach((b, g) => {
      const mah = s[`group${g}_mah`];
      const mwh = s[`group${g}_mwh`];
      setText(b, t("bench.um_group", { group: g, mah: mah ?? "—", mwh: mwh ?? "—" }));
      b.setAttribute("aria-pressed", String(g === s.selected_group));
      b.title = t("bench.um_select", { group: g });
      b.disabled = offline;
    });
    setText(p.clearGroup, t("bench.um_clear", { group: s.selected_group }));
    p.clearGroup.disabled = offline;
  }

  #renderAge(card) {
    const interval = card.meter.polling_interval > 0 ? card.meter.polling_interval : 1;
    let text;
    let stale = true;
    if (!card.sample) {
      text = t("live.waiting");
    } else {
      const age = card.sampleAgeS + (performance.now() - card.receivedAtMs) / 1000;
      stale = age > Math.max(2, STALE_INTERVALS * interval);
      text = t("live.age", { age: formatDuration(locale(), age) });
      if (stale) text = `${text} (${t("live.stale")})`;
    }
    card.node.dataset.stale = String(stale);
    setText(card.parts.age, text);
  }

  async #screen(id, action) {
    const card = this.cards.get(id);
    try {
      await postJson(meterApi(id, "screen"), { action });
      this.#say(card, "bench.screen_sent", null);
    } catch (err) {
      this.#say(card, writeErrorKey(err), { message: err.message || String(err) }, true);
    }
  }

  async #remove(card) {
    card.parts.yes.disabled = true;
    try {
      await deleteJson(`api/meters/${encodeURIComponent(card.id)}`);
      this.onChanged();
    } catch (err) {
      this.#closeConfirm(card);
      this.#say(card, writeErrorKey(err), { message: err.message || String(err) }, true);
    } finally {
      card.parts.yes.disabled = false;
    }
  }

  #closeConfirm(card) {
    card.parts.confirm.hidden = true;
    card.parts.remove.parentElement.hidden = false;
    card.parts.remove.focus();
  }

  #say(card, key, params, error = false) {
    if (!card) return;
    card.messageKey = key;
    card.messageParams = params;
    card.parts.message.dataset.state = error ? "error" : "success";
    setText(card.parts.message, t(key, params || {}));
    clearTimeout(card.messageTimer);
    card.messageTimer = setTimeout(() => {
      card.messageKey = null;
      setText(card.parts.message, "");
    }, MESSAGE_MS);
  }
}

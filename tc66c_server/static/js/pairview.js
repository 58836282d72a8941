// The pairs panel: per pair (an input meter and an output meter), over a selectable window,
// the efficiency, loss, cable resistance, energies and sample count, a small chart of power
// in / out and efficiency, the calibration in force, and its controls (calibrate, clear,
// remove); plus the add-pair form (pairform.js). Refreshed every few seconds from
// `api/pairs/<id>/<window>`.

import { deleteJson, getJson, pairUrl, postJson } from "./api.js";
import { writeErrorKey } from "./bench.js";
import { byTestId, el, setText } from "./dom.js";
import { formatNumber, parseTimestamp } from "./format.js";
import { locale, t } from "./i18n.js";
import { PairChart } from "./pairchart.js";
import {
  calibrationOf,
  DEFAULT_PAIR_WINDOW,
  formatEfficiency,
  formatResistance,
  formatVoltageOffset,
  formatWattHours,
  formatWatts,
  PAIR_WINDOWS,
  pairColumns,
} from "./pairs.js";
import { AddPairForm } from "./pairform.js";
import { windowName } from "./windows.js";

export const REFRESH_MS = 3000;
const WINDOW_KEY = "tc66c.pairWindow";
const FIGURES = [
  ["efficiency", "pairs.efficiency"],
  ["loss", "pairs.loss"],
  ["resistance", "pairs.resistance"],
  ["energy-in", "pairs.energy_in"],
  ["energy-out", "pairs.energy_out"],
  ["samples", "pairs.samples"],
];

export class PairsView {
  constructor(root) {
    this.root = root;
    this.list = byTestId("pair-list", root);
    this.empty = root.querySelector(".pairs-empty");
    this.windowGroup = byTestId("pair-window", root);
    this.form = new AddPairForm(byTestId("add-pair-form", root), byTestId("add-pair-toggle", root), {
      onAdded: () => this.loadPairs(),
    });
    this.period = readWindow();
    this.meters = []; // [{id, slot}]
    this.pairs = []; // api/pairs entries
    this.views = new Map(); // pair id -> {node, parts, chart, result, failed}
    this.timer = null;
    this.controller = null;
  }

  /** The bench's meters ([{id, slot}]): the choices of the form and the charts' colours. */
  setMeters(meters) {
    this.meters = meters;
    this.#renderVisibility();
    this.form.setMeters(meters);
    for (const view of this.views.values()) this.#colour(view);
  }

  async start() {
    this.#renderWindows();
    await this.loadPairs();
    this.timer = setInterval(() => this.refresh(), REFRESH_MS);
  }

  /** Read the pairs from the server and show them. */
  async loadPairs() {
    try {
      const answer = await getJson("api/pairs");
      this.#setPairs(Array.isArray(answer.pairs) ? answer.pairs : []);
    } catch {
      // A server without pairs (or away): the panel stays as it was.
      return;
    }
    await this.refresh();
  }

  /** Fetch every pair's results over the window. */
  async refresh() {
    if (this.root.hidden || this.pairs.length === 0) return;
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    await Promise.all(this.pairs.map((p) => this.#refreshPair(p.id, controller.signal)));
  }

  /** Redraw texts and charts (language or colour scheme switch). */
  relabel() {
    this.#renderWindows();
    this.form.relabel();
    for (const view of this.views.values()) {
      view.chart.build();
      this.#colour(view);
      this.#render(view);
    }
  }

  rebuild() {
    for (const view of this.views.values()) view.chart.build();
  }

  setWindow(period) {
    if (period === this.period) return;
    this.period = period;
    try {
      localStorage.setItem(WINDOW_KEY, period);
    } catch {
      // Not remembered when storage is disabled.
    }
    this.#renderWindows();
    for (const view of this.views.values()) {
      view.result = null;
      this.#render(view);
    }
    this.refresh();
  }

  async #refreshPair(id, signal) {
    const view = this.views.get(id);
    if (!view) return;
    const width = Math.max(60, view.parts.plot.clientWidth - 100);
    try {
      view.result = await getJson(pairUrl(id, this.period, { maxPoints: width }), signal);
      view.failed = false;
    } catch (err) {
      if (err.name === "AbortError") return;
      view.failed = true;
    }
    if (this.views.get(id) === view) this.#render(view);
  }

  #setPairs(pairs) {
    this.pairs = pairs;
    const old = this.views;
    this.views = new Map();
    for (const p of pairs) {
      const view = old.get(p.id) || this.#newView(p.id);
      view.pair = p;
      this.views.set(p.id, view);
    }
    for (const [id, view] of old) if (!this.views.has(id)) view.chart.destroy();
    this.list.replaceChildren(...[...this.views.values()].map((v) => v.node));
    for (const view of this.views.values()) {
      this.#colour(view);
      this.#render(view);
    }
    this.#renderVisibility();
  }

  #newView(id) {
    const node = el("article", { class: "pair", "data-testid": "pair", "data-pair": id });
    const head = el("header", { class: "pair-head" });
    const name = el("h3", { class: "pair-name" });
    const calBadge = el("span", { class: "badge badge-cal", "data-testid": "pair-calibrated" });
    calBadge.hidden = true;
    head.append(name, calBadge);
    const figures = el("dl", { class: "pair-figures" });
    const values = {};
    const labels = {};
    for (const [key] of FIGURES) {
      const item = el("div", { class: `pf pf-${key}` });
      labels[key] = el("dt");
      values[key] = el("dd", { "data-testid": `pair-${key}`, "data-value": "" }, "—");
      item.append(labels[key], values[key]);
      figures.append(item);
    }
    const calDetail = el("p", { class: "pair-cal hint", "data-testid": "pair-calibration" });
    const legend = el("p", { class: "pair-legend" });
    const plot = el("div", { class: "plot pair-plot", role: "img" });
    const controls = el("div", { class: "pair-controls" });
    const calibrate = el("button", { type: "button", class: "btn", "data-testid": "pair-calibrate" });
    const clear = el("button", { type: "button", class: "btn", "data-testid": "pair-clear-calibration" });
    const remove = el("button", { type: "button", class: "btn btn-remove", "data-testid": "pair-remove" });
    controls.append(calibrate, clear, remove);
    const ask = el("div", { class: "pair-ask", "data-testid": "pair-ask" });
    ask.hidden = true;
    const askText = el("p", { class: "pair-ask-text" });
    const yes = el("button", { type: "button", class: "btn btn-primary", "data-testid": "pair-ask-yes" });
    const no = el("button", { type: "button", class: "btn", "data-testid": "pair-ask-no" });
    ask.append(askText, yes, no);
    const message = el("p", { class: "pair-message", role: "status", "aria-live": "polite" });
    node.append(head, figures, calDetail, legend, plot, controls, ask, message);

    const view = {
      id,
      node,
      pair: null,
      result: null,
      failed: false,
      asking: null, // "calibrate" or "remove" while the question is shown
      messageKey: null,
      messageParams: null,
      chart: new PairChart(plot),
      parts: { name, calBadge, values, labels, calDetail, legend, plot, controls, calibrate,
        clear, remove, ask, askText, yes, no, message },
    };
    calibrate.addEventListener("click", () => this.#ask(view, "calibrate"));
    remove.addEventListener("click", () => this.#ask(view, "remove"));
    no.addEventListener("click", () => this.#closeAsk(view));
    yes.addEventListener("click", () => this.#confirm(view));
    clear.addEventListener("click", () => this.#write(view, "clear"));
    return view;
  }

  #colour(view) {
    const slot = (id) => this.meters.find((m) => m.id === id)?.slot ?? 0;
    if (view.pair) view.chart.setSlots(slot(view.pair.input), slot(view.pair.output));
    const p = view.parts;
    p.legend.replaceChildren();
    if (!view.pair) return;
    const items = [
      [slot(view.pair.input), t("pairs.power_in_of", { meter: view.pair.input })],
      [slot(view.pair.output), t("pairs.power_out_of", { meter: view.pair.output })],
    ];
    for (const [s, text] of items) {
      const item = el("span", { class: `legend-item m-c${s}` });
      item.append(el("span", { class: "legend-swatch", "aria-hidden": "true" }), text);
      p.legend.append(item);
    }
    const eff = el("span", { class: "legend-item legend-eff" });
    eff.append(el("span", { class: "legend-swatch", "aria-hidden": "true" }), t("pairs.efficiency_pct"));
    p.legend.append(eff);
  }

  #render(view) {
    const loc = locale();
    const p = view.parts;
    const pair = view.pair || {};
    const r = view.result;
    setText(p.name, t("pairs.name", { input: pair.input ?? "?", output: pair.output ?? "?" }));
    p.name.title = view.id;
    view.node.dataset.state = r ? "ready" : view.failed ? "error" : "loading";
    const shown = {
      efficiency: [r?.efficiency, formatEfficiency(loc, r?.efficiency)],
      loss: [r?.loss_w, formatWatts(loc, r?.loss_w)],
      resistance: [r?.cable_resistance_ohm, formatResistance(loc, r?.cable_resistance_ohm)],
      "energy-in": [r?.energy_in_wh, formatWattHours(loc, r?.energy_in_wh)],
      "energy-out": [r?.energy_out_wh, formatWattHours(loc, r?.energy_out_wh)],
      samples: [r?.sample_count, formatNumber(loc, r?.sample_count, 0)],
    };
    for (const [key, label] of FIGURES) {
      setText(p.labels[key], t(label));
      const [value, text] = shown[key];
      p.values[key].dataset.value = Number.isFinite(value) ? String(value) : "";
      setText(p.values[key], text);
    }
    p.values.resistance.title = r && r.cable_resistance_ohm === null ? t("pairs.resistance_none") : "";

    // The result says whether a calibration was applied; before one, the pair's own entry.
    const cal = calibrationOf(r ? r.calibration : pair.calibration);
    p.calBadge.hidden = !cal;
    setText(p.calBadge, t("pairs.calibrated"));
    setText(p.calDetail, cal
      ? t("pairs.calibration", {
          efficiency: formatEfficiency(loc, cal.efficiency),
          offset: formatVoltageOffset(loc, cal.offsetV),
        })
      : t("pairs.uncalibrated"));
    p.clear.disabled = !cal;

    setText(p.calibrate, t("pairs.calibrate"));
    setText(p.clear, t("pairs.clear_calibration"));
    setText(p.remove, t("pairs.remove"));
    setText(p.no, t("bench.cancel"));
    if (view.asking === "calibrate") {
      setText(p.askText, t("pairs.calibrate_ask", { window: windowName(this.period) }));
      setText(p.yes, t("pairs.calibrate"));
    } else if (view.asking === "remove") {
      setText(p.askText, t("pairs.remove_ask", { pair: view.id }));
      setText(p.yes, t("pairs.remove"));
    }
    if (view.messageKey) setText(p.message, t(view.messageKey, view.messageParams || {}));

    if (r && Array.isArray(r.data)) {
      const end = parseTimestamp(r.end_time);
      const start = parseTimestamp(r.start_time);
      const columns = pairColumns(r.data);
      const max = Number.isFinite(end) ? end : columns[0].at(-1) ?? 0;
      const min = Number.isFinite(start) ? start : max - 60;
      view.chart.setData(columns, { min, max });
    } else if (!view.chart.plot) {
      view.chart.build();
    }
  }

  #ask(view, what) {
    view.asking = what;
    view.parts.ask.hidden = false;
    view.parts.controls.hidden = true;
    this.#render(view);
    view.parts.no.focus();
  }

  #closeAsk(view) {
    view.asking = null;
    view.parts.ask.hidden = true;
    view.parts.controls.hidden = false;
  }

  #confirm(view) {
    const what = view.asking;
    this.#closeAsk(view);
    this.#write(view, what);
  }

  async #write(view, what) {
    const path = `api/pairs/${encodeURIComponent(view.id)}`;
    try {
      if (what === "calibrate") {
        await postJson(`${path}/calibrate`, { period: this.period });
        this.#tell(view, "pairs.calibrated_now", null, false);
      } else if (what === "clear") {
        await deleteJson(`${path}/calibration`);
        this.#tell(view, "pairs.cleared", null, false);
      } else if (what === "remove") {
        await deleteJson(path);
      }
    } catch (err) {
      this.#tell(view, writeErrorKey(err), { message: err.message || String(err) }, true);
      return;
    }
    await this.loadPairs();
  }

  #tell(view, key, params, error) {
    view.messageKey = key;
    view.messageParams = params;
    view.parts.message.dataset.state = error ? "error" : "success";
    setText(view.parts.message, t(key, params || {}));
  }

  #renderVisibility() {
    // Pairs need two meters; a pair left over is still shown (and can be removed).
    this.root.hidden = this.meters.length < 2 && this.pairs.length === 0;
    this.empty.hidden = this.pairs.length > 0;
  }

  #renderWindows() {
    const group = this.windowGroup;
    if (group.children.length !== PAIR_WINDOWS.length) {
      group.replaceChildren(...PAIR_WINDOWS.map((p) => {
        const b = el("button", { type: "button", class: "btn btn-window", "data-window": p });
        b.addEventListener("click", () => this.setWindow(p));
        return b;
      }));
    }
    for (const b of group.children) {
      b.setAttribute("aria-pressed", String(b.dataset.window === this.period));
      setText(b, windowName(b.dataset.window));
    }
  }
}

function readWindow() {
  let stored = null;
  try {
    stored = localStorage.getItem(WINDOW_KEY);
  } catch {
    stored = null;
  }
  return PAIR_WINDOWS.includes(stored) ? stored : DEFAULT_PAIR_WINDOW;
}

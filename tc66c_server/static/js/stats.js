// The statistics panel: min / average / max of V, I, P, energy and charge over the selected
// window, from `api/meters/<id>/stats/<window>` (the selected meter), refreshed every few
// seconds.

import { getJson, meterApi } from "./api.js";
import { el, setText } from "./dom.js";
import { formatDuration, formatNumber, formatQuantity } from "./format.js";
import { locale, t } from "./i18n.js";
import { BY_KEY } from "./quantities.js";
import { windowName } from "./windows.js";

export const REFRESH_MS = 5000;
const ROWS = ["voltage", "current", "power"];

export class StatsPanel {
  constructor(root) {
    this.root = root;
    this.title = root.querySelector(".panel-title");
    this.body = root.querySelector("tbody");
    this.totals = root.querySelector(".stats-totals");
    this.period = "5m";
    this.meter = null; // null: the seed's route (the first meter)
    this.stats = null;
    this.failed = false;
    this.controller = null;
    this.timer = null;
  }

  start() {
    this.refresh();
    this.timer = setInterval(() => this.refresh(), REFRESH_MS);
  }

  /** Show another meter's statistics (fetched at once once started). */
  setMeter(id) {
    if (id === this.meter) return;
    this.meter = id;
    this.stats = null;
    if (!this.timer) return;
    this.render();
    this.refresh();
  }

  /** Show the statistics of another window (fetched at once). */
  setWindow(period) {
    if (period === this.period) return;
    this.period = period;
    this.stats = null;
    this.render();
    this.refresh();
  }

  async refresh() {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    try {
      const path = meterApi(this.meter, `stats/${encodeURIComponent(this.period)}`);
      const stats = await getJson(path, controller.signal);
      this.stats = stats;
      this.failed = false;
    } catch (err) {
      if (err.name === "AbortError") return;
      this.failed = true;
    }
    if (this.controller === controller) this.render();
  }

  render() {
    const loc = locale();
    setText(this.title, t("stats.title", { window: windowName(this.period) }));
    this.root.dataset.period = this.period;
    const s = this.stats;
    this.root.dataset.state = s ? "ready" : this.failed ? "error" : "loading";
    this.body.replaceChildren();
    for (const key of ROWS) {
      const row = el("tr");
      row.append(el("th", { scope: "row" }, `${t(`q.${key}`)} (${BY_KEY[key].unit})`));
      for (const part of ["min", "avg", "max"]) {
        const v = s && s[key] ? s[key][part] : null;
        row.append(el("td", { "data-stat": `${key}.${part}`, "data-value": v ?? "" },
          formatQuantity(loc, key, v)));
      }
      this.body.append(row);
    }
    this.totals.replaceChildren();
    const totals = [
      ["energy_wh", t("stats.energy"), s ? `${formatNumber(loc, s.energy_wh, 4)} Wh` : "—"],
      ["charge_mah", t("stats.charge"), s ? `${formatNumber(loc, s.charge_mah, 2)} mAh` : "—"],
      ["duration_s", t("stats.duration"), s ? formatDuration(loc, s.duration_s) : "—"],
      ["sample_count", t("stats.samples"), s ? formatNumber(loc, s.sample_count, 0) : "—"],
    ];
    for (const [key, label, text] of totals) {
      const item = el("div");
      item.append(el("dt", {}, label));
      item.append(el("dd", { "data-stat": key, "data-value": s ? (s[key] ?? "") : "" }, text));
      this.totals.append(item);
    }
  }
}

// A pair's small chart: power in and power out (W, left axis, in the two meters' colours) and
// the instantaneous efficiency (%, right axis) over the pair's window.

import uPlot from "../vendor/uplot/uPlot.esm.js";
import { meterColourVar, timeTicks } from "./charts.js";
import { formatNumber } from "./format.js";
import { locale, t } from "./i18n.js";

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function rgb(name, alpha = 1) {
  const [r, g, b] = cssVar(name).split(/[\s,]+/).map(Number);
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

export class PairChart {
  /** @param {HTMLElement} target the plot's box (sized by the stylesheet) */
  constructor(target) {
    this.target = target;
    this.plot = null;
    this.columns = [[], [], [], []];
    this.range = null;
    this.slots = { input: 0, output: 1 };
    this.observer = new ResizeObserver(() => this.#resize());
    this.observer.observe(target);
  }

  /** The colour slots of the input and output meters (as on their cards). */
  setSlots(input, output) {
    if (input === this.slots.input && output === this.slots.output) return;
    this.slots = { input, output };
    if (this.plot) this.build();
  }

  /** (Re)create the chart: at start, and when the theme or the language changes. */
  build() {
    this.plot?.destroy();
    this.target.replaceChildren();
    this.plot = new uPlot(this.#options(), this.columns, this.target);
    this.target.setAttribute("aria-label", t("pairs.chart_aria"));
    if (this.range) this.plot.setScale("x", this.range);
  }

  /** Show a pair's series (see pairs.js `pairColumns`) over [min, max] unix seconds. */
  setData(columns, range) {
    this.columns = columns;
    this.range = range;
    if (!this.plot) this.build();
    this.plot.setData(columns, false);
    this.plot.setScale("x", range);
  }

  destroy() {
    this.observer.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }

  #resize() {
    const u = this.plot;
    if (!u) return;
    const width = this.target.clientWidth;
    const height = this.target.clientHeight;
    if (width > 0 && height > 0 && (width !== u.width || height !== u.height)) {
      u.setSize({ width, height });
    }
  }

  #options() {
    const axis = {
      stroke: cssVar("--text-muted"),
      grid: { stroke: cssVar("--grid"), width: 1 },
      ticks: { stroke: cssVar("--grid"), width: 1, size: 4 },
      font: `11px ${cssVar("--font-ui")}`,
      labelFont: `11px ${cssVar("--font-ui")}`,
    };
    const line = { width: 1.5, spanGaps: false, points: { show: false } };
    const number = (decimals) => (u, splits) =>
      splits.map((v) => formatNumber(locale(), v, decimals));
    return {
      width: Math.max(100, this.target.clientWidth),
      height: Math.max(80, this.target.clientHeight),
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, W: {}, pct: { range: [0, 100] } },
      series: [
        {},
        { ...line, label: t("pairs.power_in"), scale: "W", stroke: rgb(meterColourVar(this.slots.input)) },
        { ...line, label: t("pairs.power_out"), scale: "W", stroke: rgb(meterColourVar(this.slots.output)) },
        { ...line, label: t("pairs.efficiency"), scale: "pct", stroke: rgb("--accent"), dash: [4, 3] },
      ],
      axes: [
        { ...axis, space: 60, values: timeTicks },
        { ...axis, scale: "W", label: "W", labelSize: 14, size: 48, values: number(1) },
        {
          ...axis,
          scale: "pct",
          side: 1,
          label: "%",
          labelSize: 14,
          size: 44,
          grid: { show: false },
          values: number(0),
        },
      ],
    };
  }
}

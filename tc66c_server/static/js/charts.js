// The three synchronised uPlot charts (current, power, voltage) over one SeriesBuffer (one
// meter: average line and min-max band) or a BenchSeries (every meter: one line each, in the
// meter's colour): drawing, axes in the page's locale, the cursor read-out, and turning
// mouse gestures into zoom / pan requests. What range to show is decided by timeline.js.

import uPlot from "../vendor/uplot/uPlot.esm.js";
import { AnnotationTips } from "./annotationtips.js";
import { formatClock, formatDateTime, formatDay, formatNumber, formatQuantity } from "./format.js";
import { locale, t } from "./i18n.js";
import { BY_KEY } from "./quantities.js";

/** Chart order on the page: the seed's two first, then voltage. */
export const CHART_KEYS = ["current", "power", "voltage"];

const SYNC_KEY = "tc66c";
/** The cursor shows an annotation's text within this many CSS pixels of its marker. */
const ANNOTATION_HOVER_PX = 5;
const MIN_SELECT_PX = 4;

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** The CSS variable of a meter colour slot (see bench.js `colourSlot`). */
export function meterColourVar(slot) {
  return `--m${slot}`;
}

/** "r g b" from a CSS variable as an rgba() colour. */
function rgba(name, alpha) {
  const [r, g, b] = cssVar(name).split(/[\s,]+/).map(Number);
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/** Time tick labels in the page locale, precise enough for the tick spacing (uPlot `values`). */
export function timeTicks(u, splits, axisIdx, space, incrS) {
  const loc = locale();
  return splits.map((ts) => {
    if (incrS >= 86400) return formatDay(loc, ts);
    const d = new Date(ts * 1000);
    if (incrS >= 60 && d.getHours() === 0 && d.getMinutes() === 0) return formatDay(loc, ts);
    if (incrS < 1) return formatClock(loc, ts, "ds");
    return formatClock(loc, ts, incrS < 60 ? "s" : "min");
  });
}

/** Value tick labels in the page locale with as many decimals as the tick spacing needs. */
function valueTicks(u, splits, axisIdx, space, incr) {
  const decimals = Math.min(6, Math.max(0, -Math.floor(Math.log10(incr || 1))));
  return splits.map((v) => formatNumber(locale(), v, decimals));
}

export class ChartGroup {
  /**
   * @param {Record<string, HTMLElement>} figures chart container per quantity key
   * @param {import("./series.js").SeriesBuffer} buffer the data, shared by all charts (see
   *   `setSource` for every meter's)
   * @param {{onZoom: Function, onPan: Function, onPanEnd: Function, onReset: Function,
   *   onResize?: Function}} handlers
   */
  constructor(figures, buffer, handlers) {
    this.figures = figures;
    this.buffer = buffer;
    this.handlers = handlers;
    this.plots = {};
    this.range = null;
    /** Timeline notes drawn as markers: [{ts, text, kind}] (see `setAnnotations`). */
    this.annotations = [];
    /** Each chart's annotation markers and the tooltip with their text. */
    this.tips = Object.fromEntries(
      Object.entries(figures).map(([key, fig]) => [key, new AnnotationTips(fig)]),
    );
    this.observer = new ResizeObserver(() => this.#resize());
    for (const fig of Object.values(figures)) this.observer.observe(fig.querySelector(".plot"));
  }

  /** Plot another source (a SeriesBuffer or a BenchSeries) from now on. */
  setSource(source) {
    this.buffer = source;
    this.build();
  }

  /** (Re)create the charts: at start, and when the theme, language or source changes. */
  build() {
    this.destroy();
    for (const key of CHART_KEYS) {
      const fig = this.figures[key];
      const target = fig.querySelector(".plot");
      target.replaceChildren();
      const u = new uPlot(this.#options(key, target), this.buffer.columns(key), target);
      this.plots[key] = u;
      target.setAttribute("aria-label", t("charts.aria", { quantity: t(`q.${key}`) }));
    }
    this.update(this.range);
  }

  destroy() {
    for (const u of Object.values(this.plots)) u.destroy();
    this.plots = {};
  }

  /** Width of the plotting area in CSS pixels: how many points are worth loading. */
  plotWidth() {
    const u = this.plots[CHART_KEYS[0]];
    if (u && u.bbox.width > 0) return Math.round(u.bbox.width / uPlot.pxRatio);
    const fig = this.figures[CHART_KEYS[0]];
    return Math.max(100, fig.clientWidth - 70);
  }

  /** Redraw after the buffer changed, showing the x range {min, max} (unix seconds). */
  update(range) {
    this.range = range;
    const points = String(this.buffer.pointCount);
    if (this.buffer.multi) this.buffer.join();
    for (const key of CHART_KEYS) {
      const u = this.plots[key];
      if (!u) continue;
      u.setData(this.buffer.columns(key), false);
      if (range) u.setScale("x", { min: range.min, max: range.max });
      this.figures[key].dataset.points = points;
    }
  }

  /** Draw these annotations (from `api/annotations`) as markers on every chart. */
  setAnnotations(annotations) {
    this.annotations = annotations.filter((a) => Number.isFinite(a.ts));
    for (const [key, u] of Object.entries(this.plots)) {
      this.figures[key].dataset.annotations = String(this.annotations.length);
      u.redraw(false);
    }
  }

  /** The annotation within a few pixels of the cursor, or null. */
  #annotationNear(u) {
    const left = u.cursor.left;
    if (left === null || left === undefined || left < 0) return null;
    let best = null;
    let bestPx = ANNOTATION_HOVER_PX;
    for (const a of this.annotations) {
      const px = Math.abs(u.valToPos(a.ts, "x") - left);
      if (px <= bestPx) {
        best = a;
        bestPx = px;
      }
    }
    return best;
  }

  #drawAnnotations(u, key) {
    this.tips[key]?.draw(u, this.annotations);
    if (!this.annotations.length) return;
    const { ctx, bbox } = u;
    const { min, max } = u.scales.x;
    ctx.save();
    ctx.strokeStyle = cssVar("--text-muted");
    ctx.setLineDash([4 * uPlot.pxRatio, 3 * uPlot.pxRatio]);
    ctx.lineWidth = uPlot.pxRatio;
    for (const a of this.annotations) {
      if (a.ts < min || a.ts > max) continue;
      const x = Math.round(u.valToPos(a.ts, "x", true)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, bbox.top);
      ctx.lineTo(x, bbox.top + bbox.height);
      ctx.stroke();
    }
    ctx.restore();
  }

  /** Show another x range without touching the data (zoom, pan). */
  setRange(range) {
    this.range = range;
    for (const u of Object.values(this.plots)) u.setScale("x", { min: range.min, max: range.max });
  }

  #resize() {
    for (const [key, u] of Object.entries(this.plots)) {
      const target = this.figures[key].querySelector(".plot");
      const width = target.clientWidth;
      const height = target.clientHeight;
      if (width > 0 && height > 0 && (width !== u.width || height !== u.height)) {
        u.setSize({ width, height });
      }
    }
    this.handlers.onResize?.(this.plotWidth());
  }

  #options(key, target) {
    const q = BY_KEY[key];
    const color = `--c-${key}`;
    const axis = {
      stroke: cssVar("--text-muted"),
      grid: { stroke: cssVar("--grid"), width: 1 },
      ticks: { stroke: cssVar("--grid"), width: 1, size: 4 },
      font: `12px ${cssVar("--font-ui")}`,
      labelFont: `12px ${cssVar("--font-ui")}`,
    };
    const line = { width: 1.5, spanGaps: false, points: { show: false } };
    const multi = Boolean(this.buffer.multi);
    const series = multi
      ? this.buffer.meters.map((m) => ({
          ...line,
          label: m.name,
          stroke: rgba(meterColourVar(m.slot), 1),
        }))
      : [
          { ...line, label: t(`q.${key}`), stroke: rgba(color, 1) },
          { ...line, label: "min", stroke: rgba(color, 0.3), width: 1 },
          { ...line, label: "max", stroke: rgba(color, 0.45), width: 1 },
        ];
    return {
      width: Math.max(100, target.clientWidth),
      height: Math.max(100, target.clientHeight),
      legend: { show: false },
      scales: { x: { time: true } },
      series: [{}, ...series],
      bands: multi ? [] : [{ series: [3, 2], fill: rgba(color, 0.14) }],
      axes: [
        { ...axis, values: timeTicks, space: (u, i, min, max, plotPx) => (plotPx < 450 ? 40 : 80) },
        {
          ...axis,
          label: q.unit,
          labelSize: 16,
          size: 62,
          values: valueTicks,
        },
      ],
      cursor: {
        sync: { key: SYNC_KEY, setSeries: false },
        drag: { x: true, y: false, setScale: false },
        points: multi ? { size: 7 } : { size: 7, fill: rgba(color, 1) },
        bind: {
          dblclick: () => () => {
            this.handlers.onReset();
            return null;
          },
          // Shift+drag pans instead of selecting (uPlot has no pan of its own).
          mousedown: (u, targ, handler, onlyTarg) => (e) => {
            if (e.button !== 0 || (onlyTarg && e.target !== targ)) return;
            if (e.shiftKey) this.#startPan(u, e);
            else handler(e);
          },
        },
      },
      hooks: {
        setSelect: [(u) => this.#selected(u)],
        setCursor: [
          (u) => this.#readout(u, key),
          (u) => this.tips[key]?.hover(u, this.#annotationNear(u)),
        ],
        // After new data the cursor index is only settled once uPlot has redrawn.
        draw: [(u) => this.#readout(u, key), (u) => this.#drawAnnotations(u, key)],
      },
    };
  }

  #selected(u) {
    const { left, width } = u.select;
    if (width < MIN_SELECT_PX) return;
    const min = u.posToVal(left, "x");
    const max = u.posToVal(left + width, "x");
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    this.handlers.onZoom(min, max);
  }

  #startPan(u, down) {
    const start = { ...(this.range || { min: u.scales.x.min, max: u.scales.x.max }) };
    const sPerPx = (start.max - start.min) / (u.bbox.width / uPlot.pxRatio);
    const move = (e) => {
      const dt = (e.clientX - down.clientX) * sPerPx;
      this.handlers.onPan(start.min - dt, start.max - dt);
    };
    const up = () => {
      document.removeEventListener("mousemove", move);
      document.removeEventListener("mouseup", up);
      this.handlers.onPanEnd();
    };
    document.addEventListener("mousemove", move);
    document.addEventListener("mouseup", up);
  }

  /**
   * The read-out above a chart: exact value and time under the cursor, else the last point
   * on screen.
   */
  #readout(u, key) {
    if (this.buffer.multi) {
      this.#benchReadout(u, key);
      return;
    }
    const out = this.figures[key].querySelector(".chart-readout");
    const b = this.buffer;
    let i = u.cursor.idx;
    const hovering = i !== null && i !== undefined && i < b.x.length;
    if (!hovering) {
      const right = this.range ? this.range.max : Infinity;
      i = b.x.length - 1;
      while (i > 0 && b.x[i] > right) i -= 1;
    }
    if (i < 0 || i >= b.x.length) {
      out.textContent = "";
      return;
    }
    const loc = locale();
    const unit = BY_KEY[key].unit;
    const ts = b.x[i];
    const v = b.avg[key][i];
    const time = b.bucketS >= 60 ? formatDateTime(loc, ts) : formatClock(loc, ts, "ds");
    let text = `${time}  ${v === null ? t("charts.no_data") : `${formatQuantity(loc, key, v)} ${unit}`}`;
    if (v !== null && b.samples[i] > 1) {
      text += `  ${t("charts.min_max", {
        min: formatQuantity(loc, key, b.min[key][i]),
        max: formatQuantity(loc, key, b.max[key][i]),
        n: formatNumber(loc, b.samples[i], 0),
      })}`;
    }
    const note = hovering ? this.#annotationNear(u) : null;
    if (note) text += `  ✎ ${note.text}`;
    out.textContent = text;
    out.dataset.cursor = hovering ? "on" : "off";
    out.dataset.annotation = note ? note.kind : "";
  }

  /** Every meter's value under the cursor (else at the right edge), named. */
  #benchReadout(u, key) {
    const out = this.figures[key].querySelector(".chart-readout");
    const b = this.buffer;
    const x = b.x;
    let i = u.cursor.idx;
    const hovering = i !== null && i !== undefined && i < x.length;
    if (!hovering) {
      const right = this.range ? this.range.max : Infinity;
      i = x.length - 1;
      while (i > 0 && x[i] > right) i -= 1;
    }
    if (i < 0 || i >= x.length) {
      out.textContent = "";
      return;
    }
    const loc = locale();
    const unit = BY_KEY[key].unit;
    const time = b.bucketS >= 60 ? formatDateTime(loc, x[i]) : formatClock(loc, x[i], "ds");
    const parts = b.meters.map((m, n) => {
      const v = b.valueAt(key, n, i);
      return `${m.name} ${v === null ? "—" : `${formatQuantity(loc, key, v)} ${unit}`}`;
    });
    const note = hovering ? this.#annotationNear(u) : null;
    out.textContent = `${time}  ${parts.join(" · ")}${note ? `  ✎ ${note.text}` : ""}`;
    out.dataset.cursor = hovering ? "on" : "off";
    out.dataset.annotation = note ? note.kind : "";
  }
}

// What the charts show: the selected window, following live or paused, zoom and pan, loading
// history from the API and appending live samples, the CSV export link. The drawing itself is
// charts.js; the data columns are series.js.

import { dataUrl, getJson } from "./api.js";
import { ChartGroup, CHART_KEYS } from "./charts.js";
import { noteServerNow, serverNow } from "./clock.js";
import { el, setText } from "./dom.js";
import { parseTimestamp } from "./format.js";
import { t } from "./i18n.js";
import { SeriesBuffer } from "./series.js";
import {
  availableWindows,
  DEFAULT_WINDOW,
  periodSeconds,
  pickWindow,
  windowName,
} from "./windows.js";

const STORAGE_KEY = "tc66c.window";
/** Reload the whole window this often while following, to stay in step with the server. */
const RESYNC_MS = 10 * 60 * 1000;
/** Reload when the chart width changed by more than this fraction. */
const RELOAD_WIDTH_CHANGE = 0.25;
const RECENT_SAMPLES = 30;

export class Timeline {
  /**
   * @param {{figures: Record<string, HTMLElement>, windowGroup: HTMLElement,
   *   toolbar: HTMLElement, onWindowChange: (period: string) => void}} parts
   */
  constructor({ figures, windowGroup, toolbar, onWindowChange }) {
    this.windowGroup = windowGroup;
    this.toolbar = toolbar;
    this.exportLink = toolbar.querySelector('[data-testid="export-csv"]');
    this.statusEl = toolbar.querySelector('[data-testid="chart-status"]');
    this.onWindowChange = onWindowChange;
    this.buffer = new SeriesBuffer(CHART_KEYS);
    this.charts = new ChartGroup(figures, this.buffer, {
      onZoom: (min, max) => this.zoomTo(min, max),
      onPan: (min, max) => this.#showView(min, max),
      onPanEnd: () => this.#refine(),
      onReset: () => this.follow(),
      onResize: (width) => this.#resized(width),
    });
    this.period = readStoredWindow();
    this.offered = availableWindows(NaN);
    this.intervalS = 1;
    this.following = true;
    this.view = null; // {min, max} shown while not following
    this.zoomed = false;
    this.loaded = null; // {min, max} of the last full-window load
    this.bufferRange = null; // {min, max} the buffer holds (the window, or a refined zoom)
    this.loadedUntil = -Infinity; // live samples up to here are already in the loaded data
    this.lastLoadWidth = 0;
    this.seq = 0;
    this.loadState = "loading";
    this.rangeSupported = true; // until the server shows it ignores start/end
    this.recent = [];
    this.lastAdvance = 0;
    this.resyncTimer = null;
    this.resizeTimer = null;
    toolbar.addEventListener("click", (e) => this.#toolbarClick(e));
  }

  start() {
    this.charts.build();
    this.#renderWindows();
    this.#renderControls();
    this.onWindowChange(this.period);
    this.load();
    this.resyncTimer = setInterval(() => {
      if (this.following) this.load();
    }, RESYNC_MS);
  }

  /** Offer the windows the retention (minutes) can fill; move to a shorter one if needed. */
  setRetention(retentionMinutes) {
    const offered = availableWindows(retentionMinutes);
    if (offered.join() === this.offered.join()) return;
    this.offered = offered;
    const period = pickWindow(this.period, offered);
    this.#renderWindows();
    if (period !== this.period) this.setWindow(period, { remember: false });
  }

  /** Follow a new polling interval: it sets the expected spacing between points. */
  setInterval(intervalS) {
    if (!(intervalS > 0) || intervalS === this.intervalS) return;
    this.intervalS = intervalS;
    if (this.following) this.load();
  }

  /** Show another window, following live. */
  setWindow(period, { remember = true } = {}) {
    this.period = period;
    if (remember) {
      try {
        localStorage.setItem(STORAGE_KEY, period);
      } catch {
        // Not remembered when storage is disabled.
      }
    }
    this.#renderWindows();
    this.onWindowChange(period);
    this.follow();
  }

  get windowS() {
    return periodSeconds(this.period);
  }

  /** Load the whole window from the API at about one point per pixel. */
  async load() {
    const seq = ++this.seq;
    const width = this.charts.plotWidth();
    this.#setLoadState("loading");
    let answer;
    try {
      answer = await getJson(dataUrl(this.period, { maxPoints: width }));
    } catch {
      if (seq === this.seq) this.#setLoadState("error");
      return;
    }
    if (seq !== this.seq) return;
    const end = parseTimestamp(answer.end_time);
    const start = parseTimestamp(answer.start_time);
    if (Number.isFinite(end)) noteServerNow(end);
    this.buffer.load(answer.data || [], answer.bucket_seconds || 0, this.intervalS);
    this.loadedUntil = Number.isFinite(end) ? end : serverNow();
    this.loaded = {
      min: Number.isFinite(start) ? start : this.loadedUntil - this.windowS,
      max: this.loadedUntil,
    };
    this.bufferRange = this.loaded;
    this.lastLoadWidth = width;
    // Samples that arrived while the request was out and are newer than its answer.
    for (const [ts, sample] of this.recent) if (ts > this.loadedUntil) this.buffer.append(ts, sample);
    this.#setLoadState("ready");
    if (this.following) this.#advance();
    else this.charts.update(this.view);
  }

  /** Take a live sample (stream or polling). */
  onSample(sample) {
    const ts = parseTimestamp(sample.timestamp);
    if (!Number.isFinite(ts)) return;
    if (Number.isFinite(sample.age_s)) noteServerNow(ts + sample.age_s);
    this.recent.push([ts, sample]);
    if (this.recent.length > RECENT_SAMPLES) this.recent.shift();
    if (!this.following || ts <= this.loadedUntil) return;
    this.buffer.append(ts, sample);
    this.#advance();
  }

  /** Keep the time axis moving while following, even when no sample comes (meter away). */
  tick() {
    if (this.following && performance.now() - this.lastAdvance > 900) this.#advance();
  }

  /** Zoom to [min, max] (unix seconds): pauses following. */
  zoomTo(min, max) {
    if (!(max > min)) return;
    if (this.view && !this.following && this.view.min === min && this.view.max === max) return;
    this.following = false;
    this.zoomed = true;
    this.#showView(min, max);
    this.#refine();
  }

  /** Stop following live: the view stays where it is. */
  pause() {
    if (!this.following) return;
    this.following = false;
    this.view = { ...(this.charts.range || this.#liveRange()) };
    this.#renderControls();
  }

  /** Follow live again over the whole window (also what "reset zoom" does). */
  follow() {
    this.following = true;
    this.zoomed = false;
    this.view = null;
    this.#renderControls();
    this.load();
  }

  /** Move the view by `fraction` of its width (negative: back in time). */
  pan(fraction) {
    const v = this.view || this.charts.range || this.#liveRange();
    const shift = (v.max - v.min) * fraction;
    this.following = false;
    this.zoomed = true;
    this.#showView(v.min + shift, v.max + shift);
    this.#refine();
  }

  /** Zoom in (factor < 1) or out (factor > 1) around the view's centre. */
  zoomBy(factor) {
    const v = this.view || this.charts.range || this.#liveRange();
    const span = (v.max - v.min) * factor;
    if (span >= this.windowS) {
      this.follow();
      return;
    }
    const mid = (v.min + v.max) / 2;
    this.zoomTo(mid - span / 2, mid + span / 2);
  }

  /** Redraw texts after a language switch (the charts are rebuilt for their axes). */
  relabel() {
    this.charts.build();
    this.#renderWindows();
    this.#renderControls();
  }

  /** Rebuild the charts (colour scheme changed). */
  rebuild() {
    this.charts.build();
  }

  #liveRange() {
    const now = serverNow();
    return { min: now - this.windowS, max: now };
  }

  #advance() {
    this.lastAdvance = performance.now();
    const range = this.#liveRange();
    this.buffer.trimBefore(range.min - this.buffer.bucketS);
    this.charts.update(range);
  }

  /** Show [min, max] kept inside the loaded window. */
  #showView(min, max) {
    const bounds = this.loaded || this.#liveRange();
    const hi = Math.max(bounds.max, serverNow());
    let span = Math.min(max - min, hi - bounds.min);
    span = Math.max(span, this.intervalS * 2);
    let lo = Math.max(bounds.min, Math.min(min, hi - span));
    this.view = { min: lo, max: lo + span };
    this.charts.setRange(this.view);
    this.#renderControls();
  }

  /** Fetch the zoomed span at full resolution, when the server supports start/end. */
  async #refine() {
    const v = this.view;
    if (!v || !this.rangeSupported || !this.zoomed) return;
    const width = this.charts.plotWidth();
    const wanted = Math.max(this.intervalS, (v.max - v.min) / width);
    if (this.buffer.bucketS <= wanted * 2 && this.#covers(v)) return;
    const seq = ++this.seq;
    let answer;
    try {
      answer = await getJson(dataUrl(this.period, { maxPoints: width, start: v.min, end: v.max }));
    } catch {
      return;
    }
    if (seq !== this.seq || this.following) return;
    const start = parseTimestamp(answer.start_time);
    const tolerance = Math.max(2, (v.max - v.min) * 0.02);
    if (!(Math.abs(start - v.min) <= tolerance)) {
      this.rangeSupported = false; // the server answered the whole window: keep what we have
      return;
    }
    this.buffer.load(answer.data || [], answer.bucket_seconds || 0, this.intervalS);
    this.bufferRange = { min: v.min, max: v.max };
    this.charts.update(this.view);
  }

  #covers(v) {
    const r = this.bufferRange || this.loaded;
    return r && v.min >= r.min - 1 && v.max <= r.max + 1;
  }

  #resized(width) {
    if (!this.lastLoadWidth) return;
    if (Math.abs(width - this.lastLoadWidth) / this.lastLoadWidth < RELOAD_WIDTH_CHANGE) return;
    clearTimeout(this.resizeTimer);
    this.resizeTimer = setTimeout(() => (this.following ? this.load() : this.#refine()), 400);
  }

  #toolbarClick(e) {
    const button = e.target.closest("button[data-action]");
    if (!button || button.disabled) return;
    const actions = {
      "pan-left": () => this.pan(-0.25),
      "pan-right": () => this.pan(0.25),
      "zoom-in": () => this.zoomBy(0.5),
      "zoom-out": () => this.zoomBy(2),
      "reset-zoom": () => this.follow(),
      follow: () => (this.following ? this.pause() : this.follow()),
    };
    actions[button.dataset.action]?.();
  }

  #setLoadState(state) {
    this.loadState = state;
    this.#renderControls();
  }

  #renderWindows() {
    const group = this.windowGroup;
    group.replaceChildren();
    for (const period of this.offered) {
      const button = el("button", {
        type: "button",
        class: "btn btn-window",
        "data-window": period,
        "aria-pressed": String(period === this.period),
      }, windowName(period));
      button.addEventListener("click", () => this.setWindow(period));
      group.append(button);
    }
    group.dataset.selected = this.period;
  }

  #renderControls() {
    const tb = this.toolbar;
    tb.querySelector('[data-action="reset-zoom"]').disabled = !this.zoomed;
    const followBtn = tb.querySelector('[data-action="follow"]');
    followBtn.setAttribute("aria-pressed", String(this.following));
    setText(followBtn, this.following ? t("charts.pause") : t("charts.follow"));
    let status;
    if (this.loadState === "error") status = "error";
    else if (this.loadState === "loading") status = "loading";
    else status = this.following ? "live" : this.zoomed ? "zoomed" : "paused";
    this.statusEl.dataset.state = status;
    setText(this.statusEl, t(`charts.status.${status}`));
    this.toolbar.dataset.following = String(this.following);
    this.#renderExport();
  }

  #renderExport() {
    const range = this.following ? null : this.view;
    const href = dataUrl(this.period, {
      format: "csv",
      fields: "all",
      start: range?.min,
      end: range?.max,
    });
    this.exportLink.setAttribute("href", href);
    const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
    this.exportLink.setAttribute("download", `tc66c-${stamp}-${this.period}.csv`);
  }
}

function readStoredWindow() {
  let stored = null;
  try {
    stored = localStorage.getItem(STORAGE_KEY);
  } catch {
    stored = null;
  }
  return Number.isFinite(periodSeconds(stored)) ? stored : DEFAULT_WINDOW;
}

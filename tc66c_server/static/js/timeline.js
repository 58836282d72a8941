// What the charts show: the selected meter (or every meter of the bench on shared axes), the
// window, following live or paused, zoom and pan, loading history from the API and appending
// live samples. The drawing is charts.js, the data columns series.js and benchseries.js, the
// toolbar controls.js.

import { dataUrl, getJson, rangeUrl } from "./api.js";
import { BenchSeries } from "./benchseries.js";
import { ChartGroup, CHART_KEYS } from "./charts.js";
import { noteServerNow, serverNow } from "./clock.js";
import { ChartControls } from "./controls.js";
import { parseTimestamp } from "./format.js";
import { SeriesBuffer } from "./series.js";
import { availableWindows, DEFAULT_WINDOW, periodSeconds, pickWindow } from "./windows.js";

const STORAGE_KEY = "tc66c.window";
const ALL_METERS_KEY = "tc66c.allMeters";
/** Reload the whole window this often while following, to stay in step with the server. */
const RESYNC_MS = 10 * 60 * 1000;
/** Reload when the chart width changed by more than this fraction. */
const RELOAD_WIDTH_CHANGE = 0.25;
const RECENT_SAMPLES = 30;
const LOAD_RETRY_MS = 5000;

export class Timeline {
  /**
   * @param {{figures: Record<string, HTMLElement>, windowGroup: HTMLElement,
   *   toolbar: HTMLElement, legend?: HTMLElement, onWindowChange: (period: string) => void}} parts
   */
  constructor({ figures, windowGroup, toolbar, legend = null, onWindowChange }) {
    this.onWindowChange = onWindowChange;
    this.controls = new ChartControls(windowGroup, toolbar, legend, {
      onWindow: (period) => this.setWindow(period),
      onAction: (action) => this.#action(action),
    });
    this.buffer = new SeriesBuffer(CHART_KEYS);
    this.bench = new BenchSeries(CHART_KEYS);
    this.meter = null; // the meter shown (null: the seed's routes, the first meter)
    this.meters = []; // the bench, [{id, slot, name}], for the all-meters view
    this.wantAll = readStoredFlag(ALL_METERS_KEY);
    this.started = false;
    this.multi = false; // every meter on the charts (wanted and the bench has several)
    this.pending = false; // live samples not drawn yet (the all-meters view draws on ticks)
    this.charts = new ChartGroup(figures, this.buffer, {
      onZoom: (min, max) => this.zoomTo(min, max),
      onPan: (min, max) => this.panTo(min, max),
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
    this.rangeSupported = true; // until the server shows it ignores `end`
    this.recent = [];
    this.lastAdvance = 0;
    this.resyncTimer = null;
    this.resizeTimer = null;
    this.retryTimer = null;
  }

  start() {
    this.started = true;
    this.multi = this.#multiWanted();
    this.charts.buffer = this.multi ? this.bench : this.buffer;
    this.charts.build();
    this.#renderWindows();
    this.#renderControls();
    this.onWindowChange(this.period);
    this.load();
    this.resyncTimer = setInterval(() => {
      if (this.following) this.load();
    }, RESYNC_MS);
  }

  /** Show another meter (its history, its live samples, its CSV export). */
  setMeter(id) {
    if (id === this.meter) return;
    this.meter = id;
    this.recent = [];
    this.rangeSupported = true;
    if (this.multi) {
      this.#renderControls();
      return;
    }
    this.buffer.clear();
    if (!this.started) return;
    this.charts.update(this.charts.range);
    this.follow(); // also drops an answer still on its way for the other meter
  }

  /** Follow the bench's meters ([{id, slot, name}]): the all-meters view draws each. */
  setMeters(meters) {
    const same = JSON.stringify(meters) === JSON.stringify(this.meters);
    this.meters = meters;
    if (!same) this.bench.setMeters(meters);
    const multi = this.#multiWanted();
    if (multi !== this.multi) this.#switchView(multi);
    else if (!same && this.multi && this.started) {
      this.charts.build();
      this.load();
    }
    this.#renderControls();
  }

  /** Show every meter on shared axes (true) or only the selected one. */
  setAllMeters(on) {
    this.wantAll = Boolean(on);
    try {
      localStorage.setItem(ALL_METERS_KEY, this.wantAll ? "1" : "0");
    } catch {
      // Not remembered when storage is disabled.
    }
    const multi = this.#multiWanted();
    if (multi !== this.multi) this.#switchView(multi);
    this.#renderControls();
  }

  /** Offer the windows the retention (minutes) can fill; move to a shorter one if needed. */
  setRetention(retentionMinutes) {
    if (!(retentionMinutes > 0)) return;
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
    if (this.multi) {
      await this.#loadBench();
      return;
    }
    const seq = ++this.seq;
    const width = this.charts.plotWidth();
    this.#setLoadState("loading");
    let answer;
    try {
      answer = await getJson(dataUrl(this.period, { meter: this.meter, maxPoints: width }));
    } catch {
      if (seq !== this.seq) return;
      this.#setLoadState("error");
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => {
        if (this.following && seq === this.seq) this.load();
      }, LOAD_RETRY_MS);
      return;
    }
    if (seq !== this.seq) return;
    const end = parseTimestamp(answer.end_time);
    const start = parseTimestamp(answer.start_time);
    if (Number.isFinite(end)) noteServerNow(end);
    this.buffer.load(answer.data || [], answer.bucket_seconds || 0, this.intervalS);
    if (!this.buffer.bucketS && this.windowS / this.intervalS > 1.5 * width) {
      // Raw history (few points so far) but live data would outgrow the chart: merge it.
      this.buffer.mergeLiveInto(Math.ceil(this.windowS / width), this.intervalS);
    }
    this.loadedUntil = Number.isFinite(end) ? end : serverNow();
    this.loaded = {
      min: Number.isFinite(start) ? start : this.loadedUntil - this.windowS,
      max: this.loadedUntil,
    };
    this.bufferRange = this.loaded;
    this.lastLoadWidth = width;
    // Samples that arrived while the request was out and are newer than its answer.
    for (const [ts, sample, id] of this.recent) {
      if (ts > this.loadedUntil && this.#isShown(id)) this.buffer.append(ts, sample);
    }
    this.#setLoadState("ready");
    if (this.following) this.#advance();
    else this.charts.update(this.view);
    this.#loadAnnotations(seq, this.meter);
  }

  /** The window's annotations (recordings, PD levels, unplugs, notes) as chart markers. */
  async #loadAnnotations(seq, meterId) {
    const meter = meterId ? `&meter=${encodeURIComponent(meterId)}` : "";
    try {
      const answer = await getJson(`api/annotations?period=${this.period}${meter}`);
      if (seq === this.seq) this.charts.setAnnotations(answer.annotations || []);
    } catch {
      // A server without annotations (or a refused period): the charts go without markers.
    }
  }

  /** Take a live sample (stream or polling) of meter `id` (null: the shown meter). */
  onSample(sample, id = null) {
    const ts = parseTimestamp(sample.timestamp);
    if (!Number.isFinite(ts)) return;
    if (Number.isFinite(sample.age_s)) noteServerNow(ts + sample.age_s);
    this.recent.push([ts, sample, id]);
    if (this.recent.length > RECENT_SAMPLES * Math.max(1, this.meters.length)) this.recent.shift();
    if (!this.following || ts <= this.loadedUntil) return;
    if (this.multi) {
      // Every meter's samples: drawn on the next tick, not once per sample.
      if (this.bench.append(id ?? this.meter, ts, sample)) this.pending = true;
      return;
    }
    if (!this.#isShown(id)) return;
    this.buffer.append(ts, sample);
    this.#advance();
  }

  /** Keep the time axis moving while following, even when no sample comes (meter away). */
  tick() {
    if (!this.following) return;
    if (this.pending || performance.now() - this.lastAdvance > 900) this.#advance();
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

  /** Show [min, max] while dragging (Shift+drag): pauses following; data follows on release. */
  panTo(min, max) {
    this.following = false;
    this.zoomed = true;
    this.#showView(min, max);
  }

  /** Move the view by `fraction` of its width (negative: back in time). */
  pan(fraction) {
    const v = this.view || this.charts.range || this.#liveRange();
    const shift = (v.max - v.min) * fraction;
    this.panTo(v.min + shift, v.max + shift);
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
    this.pending = false;
    const range = this.#liveRange();
    const source = this.multi ? this.bench : this.buffer;
    source.trimBefore(range.min - source.bucketS);
    this.charts.update(range);
  }

  /** Whether a sample of meter `id` belongs on the single-meter charts. */
  #isShown(id) {
    return id === null || id === undefined || this.meter === null || id === this.meter;
  }

  #multiWanted() {
    return this.wantAll && this.meters.length > 1;
  }

  #switchView(multi) {
    this.multi = multi;
    if (!this.started) return; // start() builds the charts for the view chosen by then
    this.rangeSupported = true;
    this.charts.setSource(multi ? this.bench : this.buffer);
    this.follow();
  }

  /** Every meter's window at about one point per pixel (the all-meters view). */
  async #loadBench() {
    const seq = ++this.seq;
    const width = this.charts.plotWidth();
    const meters = this.meters.map((m) => m.id);
    this.#setLoadState("loading");
    const answers = await Promise.allSettled(
      meters.map((id) => getJson(dataUrl(this.period, { meter: id, maxPoints: width }))),
    );
    if (seq !== this.seq || !this.multi) return;
    if (answers.every((a) => a.status === "rejected")) {
      this.#setLoadState("error");
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => {
        if (this.following && seq === this.seq) this.load();
      }, LOAD_RETRY_MS);
      return;
    }
    let end = -Infinity;
    let start = Infinity;
    answers.forEach((a, i) => {
      if (a.status !== "fulfilled") return;
      const answer = a.value;
      end = Math.max(end, parseTimestamp(answer.end_time));
      start = Math.min(start, parseTimestamp(answer.start_time));
      this.bench.load(meters[i], answer.data || [], answer.bucket_seconds || 0, this.intervalS);
    });
    if (Number.isFinite(end)) noteServerNow(end);
    this.loadedUntil = Number.isFinite(end) ? end : serverNow();
    this.loaded = {
      min: Number.isFinite(start) ? start : this.loadedUntil - this.windowS,
      max: this.loadedUntil,
    };
    this.bufferRange = this.loaded;
    this.lastLoadWidth = width;
    for (const [ts, sample, id] of this.recent) {
      if (ts > this.loadedUntil) this.bench.append(id ?? this.meter, ts, sample);
    }
    this.#setLoadState("ready");
    if (this.following) this.#advance();
    else this.charts.update(this.view);
    this.#loadAnnotations(seq, null);
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

  /** Fetch the zoomed span at full resolution (`end` narrows the period to the view). */
  async #refine() {
    const v = this.view;
    // The all-meters view zooms into the window's data as loaded.
    if (!v || !this.rangeSupported || !this.zoomed || this.multi) return;
    const width = this.charts.plotWidth();
    const wanted = Math.max(this.intervalS, (v.max - v.min) / width);
    if (this.buffer.bucketS <= wanted * 2 && this.#covers(v)) return;
    const seq = ++this.seq;
    let answer;
    try {
      answer = await getJson(rangeUrl(v.min, v.max, { meter: this.meter, maxPoints: width }));
    } catch {
      return;
    }
    if (seq !== this.seq || this.following) return;
    const start = parseTimestamp(answer.start_time);
    const tolerance = Math.max(2, (v.max - v.min) * 0.02);
    if (!(Math.abs(start - v.min) <= tolerance)) {
      this.rangeSupported = false; // the server ignored `end`: keep the window's data
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

  #action(name) {
    const actions = {
      "pan-left": () => this.pan(-0.25),
      "pan-right": () => this.pan(0.25),
      "zoom-in": () => this.zoomBy(0.5),
      "zoom-out": () => this.zoomBy(2),
      "reset-zoom": () => this.follow(),
      follow: () => (this.following ? this.pause() : this.follow()),
      "all-meters": () => this.setAllMeters(!this.wantAll),
    };
    actions[name]?.();
  }

  #setLoadState(state) {
    this.loadState = state;
    this.#renderControls();
  }

  #renderWindows() {
    this.controls.renderWindows(this.offered, this.period);
  }

  #renderControls() {
    this.controls.render({
      following: this.following,
      zoomed: this.zoomed,
      loadState: this.loadState,
      period: this.period,
      view: this.view,
      meter: this.meter,
      meters: this.meters,
      allMeters: this.multi,
    });
  }
}

function readStoredFlag(key) {
  try {
    return localStorage.getItem(key) === "1";
  } catch {
    return false;
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

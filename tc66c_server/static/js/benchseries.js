// Several meters' time series on one time axis: one SeriesBuffer per meter, joined into the
// columns uPlot plots (one shared x, one line per meter). Pure data, no DOM.
//
// In the joined columns a meter with no point at some other meter's timestamp has
// `undefined` there (uPlot draws the line across it) while its own gaps stay `null` (uPlot
// breaks the line): the meters' clocks interleave, their gaps stay gaps.

import { SeriesBuffer } from "./series.js";

export class BenchSeries {
  /** @param {string[]} keys quantities to keep */
  constructor(keys) {
    this.keys = keys;
    this.multi = true;
    /** @type {{id: string, slot: number, name: string}[]} */
    this.meters = [];
    /** @type {Map<string, SeriesBuffer>} */
    this.buffers = new Map();
    this.x = [];
    this.joined = {}; // key -> one column per meter, in `meters` order
    this.stale = true;
  }

  /** Follow the bench: keep the buffers of meters still there, start empty ones for new. */
  setMeters(meters) {
    const next = new Map();
    for (const m of meters) next.set(m.id, this.buffers.get(m.id) || new SeriesBuffer(this.keys));
    this.buffers = next;
    this.meters = meters.map((m) => ({ ...m }));
    this.stale = true;
  }

  /** The buffer of meter `id`, or null when the bench has no such meter. */
  buffer(id) {
    return this.buffers.get(id) || null;
  }

  /** The coarsest bucket among the meters (0 when all are raw). */
  get bucketS() {
    let b = 0;
    for (const buf of this.buffers.values()) b = Math.max(b, buf.bucketS);
    return b;
  }

  /** Real points over every meter. */
  get pointCount() {
    let n = 0;
    for (const buf of this.buffers.values()) n += buf.pointCount;
    return n;
  }

  /** Replace meter `id`'s points with an API answer (see `SeriesBuffer.load`). */
  load(id, points, bucketS, intervalS) {
    this.buffer(id)?.load(points, bucketS, intervalS);
    this.stale = true;
  }

  /** Add a live sample of meter `id`; false when the bench has no such meter. */
  append(id, ts, sample) {
    const buf = this.buffer(id);
    if (!buf) return false;
    buf.append(ts, sample);
    this.stale = true;
    return true;
  }

  trimBefore(ts) {
    for (const buf of this.buffers.values()) buf.trimBefore(ts);
    this.stale = true;
  }

  clear() {
    for (const buf of this.buffers.values()) buf.clear();
    this.stale = true;
  }

  /** The uPlot data for one quantity: [x, one column per meter]. */
  columns(key) {
    this.join();
    return [this.x, ...(this.joined[key] || [])];
  }

  /** Recompute the joined columns when a buffer changed (a k-way merge of sorted x). */
  join() {
    if (!this.stale) return;
    const bufs = this.meters.map((m) => this.buffers.get(m.id));
    const pos = bufs.map(() => 0);
    const x = [];
    const joined = {};
    for (const k of this.keys) joined[k] = bufs.map(() => []);
    for (;;) {
      let next = Infinity;
      for (let i = 0; i < bufs.length; i++) {
        const b = bufs[i];
        if (pos[i] < b.x.length && b.x[pos[i]] < next) next = b.x[pos[i]];
      }
      if (next === Infinity) break;
      x.push(next);
      for (let i = 0; i < bufs.length; i++) {
        const b = bufs[i];
        const here = pos[i] < b.x.length && b.x[pos[i]] === next;
        for (const k of this.keys) joined[k][i].push(here ? b.avg[k][pos[i]] : undefined);
        if (here) pos[i] += 1;
      }
    }
    this.x = x;
    this.joined = joined;
    this.stale = false;
  }

  /**
   * Meter number `m`'s value of `key` at joined index `i`, or else its latest point before
   * (within `lookback` indexes): what a read-out shows under the cursor. Null for a gap or
   * nothing near.
   */
  valueAt(key, m, i, lookback = 64) {
    this.join();
    const col = this.joined[key]?.[m];
    if (!col) return null;
    for (let j = Math.min(i, col.length - 1); j >= 0 && j >= i - lookback; j--) {
      if (col[j] !== undefined) return col[j];
    }
    return null;
  }
}

// The time series behind the charts: columns uPlot can plot as they are, loaded from the API,
// grown by live samples and trimmed at the left edge. Pure data, no DOM.
//
// Columns: x (unix seconds), and per quantity avg, min, max. A gap (meter unplugged, poller
// stopped) is a point whose values are all null, so uPlot (spanGaps: false) breaks the line
// instead of drawing a straight segment across missing time.

import { parseTimestamp } from "./format.js";

/** How many expected spacings two points may be apart before the space is a gap. */
export const GAP_FACTOR = 3;

export class SeriesBuffer {
  /** @param {string[]} keys quantities to keep */
  constructor(keys) {
    this.keys = keys;
    this.x = [];
    this.avg = {};
    this.min = {};
    this.max = {};
    this.samples = []; // per point: how many meter samples it averages (0 for a gap)
    for (const k of keys) {
      this.avg[k] = [];
      this.min[k] = [];
      this.max[k] = [];
    }
    this.bucketS = 0;
    this.spacingS = 1;
  }

  /** Number of real points (gap markers excluded). */
  get pointCount() {
    let n = 0;
    for (const s of this.samples) if (s > 0) n += 1;
    return n;
  }

  /** The uPlot data for one quantity: [x, avg, min, max], sharing this buffer's arrays. */
  columns(key) {
    return [this.x, this.avg[key], this.min[key], this.max[key]];
  }

  /** Empty every column in place (uPlot keeps references to them). */
  clear() {
    this.x.length = 0;
    this.samples.length = 0;
    for (const k of this.keys) {
      this.avg[k].length = 0;
      this.min[k].length = 0;
      this.max[k].length = 0;
    }
  }

  /**
   * Replace the content with an API answer's points (`api/data/<period>`).
   * `bucketS` is the answer's bucket_seconds (0 when not bucketed); `intervalS` the polling
   * interval. Points closer than the expected spacing stay, farther ones get a gap between.
   */
  load(points, bucketS, intervalS) {
    this.clear();
    this.bucketS = bucketS > 0 ? bucketS : 0;
    this.spacingS = Math.max(this.bucketS, intervalS > 0 ? intervalS : 1);
    for (const p of points) {
      const ts = parseTimestamp(p.timestamp);
      if (!Number.isFinite(ts)) continue;
      const values = {};
      const mins = {};
      const maxs = {};
      for (const k of this.keys) {
        values[k] = numberOrNull(p[k]);
        mins[k] = numberOrNull(p[`${k}_min`] ?? p[k]);
        maxs[k] = numberOrNull(p[`${k}_max`] ?? p[k]);
      }
      this.#push(ts, values, mins, maxs, p.samples > 0 ? p.samples : 1);
    }
  }

  /**
   * From now on merge live samples into buckets of `bucketS` seconds: for raw history whose
   * live continuation would otherwise outgrow the chart's width.
   */
  mergeLiveInto(bucketS, intervalS) {
    this.bucketS = bucketS;
    this.spacingS = Math.max(bucketS, intervalS > 0 ? intervalS : 1);
  }

  /**
   * Add one live sample. In a bucketed series a sample inside the last bucket is merged into
   * it (running average, min, max) so the point count stays near the chart width; otherwise
   * it starts a new point (a new bucket on the same grid, or a raw point).
   */
  append(ts, sample) {
    const n = this.x.length;
    const lastX = n ? this.x[n - 1] : null;
    if (lastX !== null && ts <= lastX && this.bucketS === 0) return; // duplicate or late
    if (this.bucketS > 0 && lastX !== null && this.samples[n - 1] > 0) {
      if (ts < lastX) return;
      if (ts < lastX + this.bucketS) {
        this.#merge(n - 1, sample);
        return;
      }
      const start = lastX + Math.floor((ts - lastX) / this.bucketS) * this.bucketS;
      this.#pushSample(start, sample);
      return;
    }
    const start = this.bucketS > 0 ? Math.floor(ts / this.bucketS) * this.bucketS : ts;
    if (lastX !== null && start <= lastX) return;
    this.#pushSample(start, sample);
  }

  /** Drop the points before `ts` (and a gap marker left leading the series). */
  trimBefore(ts) {
    let cut = 0;
    while (cut < this.x.length && this.x[cut] < ts) cut += 1;
    while (cut < this.x.length && this.samples[cut] === 0) cut += 1;
    if (cut === 0) return;
    this.x.splice(0, cut);
    this.samples.splice(0, cut);
    for (const k of this.keys) {
      this.avg[k].splice(0, cut);
      this.min[k].splice(0, cut);
      this.max[k].splice(0, cut);
    }
  }

  #pushSample(ts, sample) {
    const values = {};
    for (const k of this.keys) values[k] = numberOrNull(sample[k]);
    this.#push(ts, values, values, values, 1);
  }

  #push(ts, values, mins, maxs, count) {
    const n = this.x.length;
    if (n && this.samples[n - 1] > 0 && ts - this.x[n - 1] > GAP_FACTOR * this.spacingS) {
      this.#pushRaw(this.x[n - 1] + this.spacingS, null, null, null, 0);
    }
    this.#pushRaw(ts, values, mins, maxs, count);
  }

  #pushRaw(ts, values, mins, maxs, count) {
    this.x.push(ts);
    this.samples.push(count);
    for (const k of this.keys) {
      this.avg[k].push(values ? values[k] : null);
      this.min[k].push(mins ? mins[k] : null);
      this.max[k].push(maxs ? maxs[k] : null);
    }
  }

  #merge(i, sample) {
    const n = this.samples[i];
    for (const k of this.keys) {
      const v = numberOrNull(sample[k]);
      if (v === null) continue;
      const avg = this.avg[k][i];
      this.avg[k][i] = avg === null ? v : (avg * n + v) / (n + 1);
      this.min[k][i] = this.min[k][i] === null ? v : Math.min(this.min[k][i], v);
      this.max[k][i] = this.max[k][i] === null ? v : Math.max(this.max[k][i], v);
    }
    this.samples[i] = n + 1;
  }
}

function numberOrNull(v) {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

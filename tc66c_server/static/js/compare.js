// Comparing recordings: series aligned at each recording's start (or at load connect) and
// joined on one x axis of seconds, for one uPlot chart with a line per recording. Pure.

/** At most this many recordings are overlaid. */
export const MAX_COMPARED = 4;
/** Points per recording asked of the data endpoint. */
export const POINTS_PER_RECORDING = 2000;
/** Line colours of the compared recordings (also the report's). */
export const COLOURS = ["#1f5fbf", "#c2410c", "#15803d", "#7e22ce"];

/**
 * The moment a recording's x axis starts (Unix s): its start, or the moment its load was
 * connected (start + duration − run time) when `align` is "load".
 */
export function alignTs(summary, align) {
  const start = Date.parse(summary.start) / 1000;
  if (align !== "load" || !summary.run_time_s) return start;
  return start + Math.max(summary.duration_s - summary.run_time_s, 0);
}

/**
 * Join several recordings' points on one x axis: `[xs, ys0, ys1, ...]` where xs are the
 * seconds since each recording's origin, sorted, and a recording without a point at some x
 * has null there. `points[k]` is a list of `{t, value}` (t in Unix s).
 */
export function overlay(points, origins) {
  const byX = new Map();
  points.forEach((list, k) => {
    for (const p of list) {
      const x = Math.round((p.t - origins[k]) * 1000) / 1000;
      let row = byX.get(x);
      if (!row) {
        row = new Array(points.length).fill(null);
        byX.set(x, row);
      }
      row[k] = p.value;
    }
  });
  const xs = [...byX.keys()].sort((a, b) => a - b);
  const columns = [xs];
  for (let k = 0; k < points.length; k += 1) columns.push(xs.map((x) => byX.get(x)[k]));
  return columns;
}

/** The points of one quantity from a data answer (`{data: [{timestamp, <key>}]}`). */
export function pointsOf(answer, key) {
  return answer.data.map((p) => ({ t: Date.parse(p.timestamp) / 1000, value: p[key] }));
}

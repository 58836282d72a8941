import test from "node:test";
import assert from "node:assert/strict";
const S = new URL("../../tc66c_server/static/js/", import.meta.url).href;
const { alignTs, overlay, pointsOf, MAX_COMPARED } = await import(S + "compare.js");

const iso = (s) => new Date(s * 1000).toISOString();

test("recordings are aligned at their start, or at load connect", () => {
  const r = { start: iso(1000), duration_s: 100, run_time_s: 90 };
  assert.equal(alignTs(r, "start"), 1000);
  assert.equal(alignTs(r, "load"), 1010);
  assert.equal(alignTs({ ...r, run_time_s: 0 }, "load"), 1000);
});

test("overlaid series share one x axis of seconds, with nulls where a recording has no point", () => {
  const a = [{ t: 1000, value: 1 }, { t: 1001, value: 2 }, { t: 1002, value: 3 }];
  const b = [{ t: 5000, value: 10 }, { t: 5002, value: 30 }];
  const [xs, ya, yb] = overlay([a, b], [1000, 5000]);
  assert.deepEqual(xs, [0, 1, 2]);
  assert.deepEqual(ya, [1, 2, 3]);
  assert.deepEqual(yb, [10, null, 30]);
});

test("four day-long recordings overlay on one axis of their common times", () => {
  const day = Array.from({ length: 1440 }, (_, k) => ({ t: k * 60, value: k }));
  const columns = overlay([day, day, day, day], [0, 0, 0, 0]);
  assert.equal(columns.length, 1 + MAX_COMPARED);
  assert.equal(columns[0].length, 1440);
});

test("points of a quantity come from the data answer's timestamps", () => {
  const answer = { data: [{ timestamp: iso(10), power: 2.5 }] };
  assert.deepEqual(pointsOf(answer, "power"), [{ t: 10, value: 2.5 }]);
});

import test from "node:test";
import assert from "node:assert/strict";
const S = new URL("../../tc66c_server/static/js/", import.meta.url).href;
const { SeriesBuffer } = await import(S + "series.js");
const { periodSeconds, formatPeriod, availableWindows, pickWindow } = await import(S + "windows.js");
const { parseTimestamp, parseDecimal, formatNumber, formatDuration } = await import(S + "format.js");

const iso = (s) => new Date(s * 1000).toISOString();

test("gap inserted between points farther than 3 spacings", () => {
  const b = new SeriesBuffer(["voltage"]);
  b.load([0, 1, 2, 10, 11].map((t) => ({ timestamp: iso(1000 + t), voltage: 5 })), 0, 1);
  assert.deepEqual(b.x.map((x) => x - 1000), [0, 1, 2, 3, 10, 11]);
  assert.equal(b.avg.voltage[3], null);
  assert.equal(b.pointCount, 5);
});

test("bucketed load keeps min/max and merges live samples into last bucket", () => {
  const b = new SeriesBuffer(["current"]);
  b.load([{ timestamp: iso(100), current: 1, current_min: 0.5, current_max: 2, samples: 10 }], 10, 1);
  b.append(105, { current: 3 });
  assert.equal(b.x.length, 1);
  assert.equal(b.max.current[0], 3);
  assert.equal(b.samples[0], 11);
  assert.ok(Math.abs(b.avg.current[0] - (10 + 3) / 11) < 1e-9);
  b.append(112, { current: 1 });
  assert.deepEqual(b.x, [100, 110]);
  b.append(200, { current: 1 }); // gap: 90 s > 3 * 10
  assert.deepEqual(b.x, [100, 110, 120, 200]);
  assert.equal(b.avg.current[2], null);
  b.trimBefore(115);
  assert.deepEqual(b.x, [200]); // leading gap marker dropped too
});

test("raw append ignores duplicates", () => {
  const b = new SeriesBuffer(["power"]);
  b.append(1, { power: 1 }); b.append(1, { power: 2 }); b.append(2, { power: 3 });
  assert.deepEqual(b.x, [1, 2]);
});

test("periods", () => {
  assert.equal(periodSeconds("1h30m"), 5400);
  assert.equal(periodSeconds("24h"), 86400);
  assert.ok(Number.isNaN(periodSeconds("abc")));
  assert.ok(Number.isNaN(periodSeconds(null)));
  assert.equal(formatPeriod(5400), "1h30m");
  assert.deepEqual(availableWindows(10), ["30s", "1m", "5m", "10m"]);
  assert.deepEqual(availableWindows(60), ["30s", "1m", "5m", "15m", "1h"]);
  assert.deepEqual(availableWindows(20160), ["30s", "1m", "5m", "15m", "1h", "6h", "24h", "7d"]);
  assert.deepEqual(availableWindows(90), ["30s", "1m", "5m", "15m", "1h", "1h30m"]);
  assert.equal(pickWindow("24h", ["30s", "1m", "5m", "10m"]), "10m");
  assert.equal(pickWindow("5m", ["30s", "1m", "5m", "10m"]), "5m");
});

test("timestamps keep microseconds and offsets", () => {
  const t = parseTimestamp("2026-01-19T14:25:12.123456+01:00");
  assert.ok(Math.abs(t - (Date.UTC(2026, 0, 19, 13, 25, 12) / 1000 + 0.123456)) < 1e-6);
  assert.equal(parseTimestamp("2026-01-19T13:25:12Z"), Date.UTC(2026, 0, 19, 13, 25, 12) / 1000);
});

test("decimal parsing and formatting per locale", () => {
  assert.equal(parseDecimal("0,5"), 0.5);
  assert.equal(parseDecimal(" 12 "), 12);
  assert.ok(Number.isNaN(parseDecimal("abc")));
  assert.ok(Number.isNaN(parseDecimal("")));
  assert.equal(formatNumber("fr", 5.1, 4), "5,1000");
  assert.equal(formatNumber("en", 1234.5, 1), "1,234.5");
  assert.equal(formatNumber("en", null, 1), "—");
  console.log(formatDuration("en", 125), "|", formatDuration("fr", 3*3600+300), "|", formatDuration("en", 2.34));
});

import test from "node:test";
import assert from "node:assert/strict";
const S = new URL("../../tc66c_server/static/js/", import.meta.url).href;
const { dataUrl, meterApi, pairUrl, rangeUrl } = await import(S + "api.js");
const bench = await import(S + "bench.js");
const pairs = await import(S + "pairs.js");
const { BenchSeries } = await import(S + "benchseries.js");

const iso = (s) => new Date(s * 1000).toISOString();

test("per-meter URLs go under api/meters/<id>, the seed's routes without a meter", () => {
  assert.equal(meterApi("out", "status"), "api/meters/out/status");
  assert.equal(meterApi(null, "status"), "api/status");
  assert.equal(meterApi("a b", "config"), "api/meters/a%20b/config");
  assert.equal(dataUrl("5m", { meter: "out", maxPoints: 800 }), "api/meters/out/data/5m?max_points=800");
  assert.equal(dataUrl("5m", { maxPoints: 800 }), "api/data/5m?max_points=800");
  assert.equal(
    dataUrl("1m", { meter: "in", format: "csv", fields: "all" }),
    "api/meters/in/data/1m?fields=all&format=csv",
  );
  assert.match(rangeUrl(1000, 1060, { meter: "out" }), /^api\/meters\/out\/data\/1m\?end=1060\.000$/);
  assert.equal(pairUrl("in-out", "10m", { maxPoints: 300.4 }), "api/pairs/in-out/10m?max_points=300");
  assert.equal(pairUrl("in-out", "1m"), "api/pairs/in-out/1m");
});

test("the URL hash names a meter; plain anchors and bad ids name none", () => {
  assert.equal(bench.parseMeterHash("#meter=out"), "out");
  assert.equal(bench.parseMeterHash("meter=m2&x=1"), "m2");
  assert.equal(bench.parseMeterHash("#charts"), null);
  assert.equal(bench.parseMeterHash(""), null);
  assert.equal(bench.parseMeterHash(undefined), null);
  assert.equal(bench.parseMeterHash("#meter="), null);
  assert.equal(bench.parseMeterHash("#meter=%3Cb%3E"), null);
  assert.equal(bench.parseMeterHash("#meter=" + "a".repeat(33)), null);
  assert.equal(bench.meterHash("out"), "#meter=out");
  assert.equal(bench.parseMeterHash(bench.meterHash("in_2")), "in_2");
});

test("the meter shown is the wanted one if present, else the current, else the first", () => {
  assert.equal(bench.pickMeter(["in", "out"], "out"), "out");
  assert.equal(bench.pickMeter(["in", "out"], "gone", "out"), "out");
  assert.equal(bench.pickMeter(["in", "out"], null, "gone"), "in");
  assert.equal(bench.pickMeter([], "in"), null);
});

test("colours, link states and refused writes", () => {
  assert.deepEqual([0, 1, 7, 8, 9].map(bench.colourSlot), [0, 1, 7, 0, 1]);
  assert.equal(bench.colourSlot(-1), 0);
  assert.equal(bench.linkState({ connected: true }), "connected");
  assert.equal(bench.linkState({ connected: false }), "disconnected");
  assert.equal(bench.linkState({}), "unknown");
  assert.equal(bench.linkState(null), "unknown");
  assert.equal(bench.writeErrorKey({ status: 403 }), "write.need_token");
  assert.equal(bench.writeErrorKey({ status: 409, code: "meter_offline" }), "write.offline");
  assert.equal(bench.writeErrorKey({ status: 0 }), "write.unreachable");
  assert.equal(bench.writeErrorKey({ status: 400, code: "invalid_config" }), "write.failed");
  assert.equal(bench.writeErrorKey(new Error("x")), "write.failed");
});

test("the add-meter body sends the port always, the name and interval when typed", () => {
  const parse = (s) => Number(s.replace(",", "."));
  assert.deepEqual(bench.newMeterBody({ port: " /dev/ttyACM1 ", name: "", interval: "" }, parse), {
    port: "/dev/ttyACM1",
  });
  assert.deepEqual(bench.newMeterBody({ port: "demo", name: " out ", interval: "0,5" }, parse), {
    port: "demo",
    id: "out",
    polling_interval: 0.5,
  });
  // Not a number: sent as typed so the server names the problem next to the field.
  assert.deepEqual(bench.newMeterBody({ port: "", interval: "fast" }, () => NaN), {
    port: "",
    polling_interval: "fast",
  });
});

test("an add-meter error names its form field, bare or by its place in the saved config", () => {
  assert.equal(bench.meterFieldName("port"), "port");
  assert.equal(bench.meterFieldName("meters[2].port"), "port");
  assert.equal(bench.meterFieldName("meters[10].polling_interval"), "polling_interval");
  assert.equal(bench.meterFieldName("body"), "body");
});

test("efficiency as a percentage, missing as a dash", () => {
  assert.equal(pairs.formatEfficiency("en", 0.8734), "87.3%");
  assert.equal(pairs.formatEfficiency("fr", 0.8734).replace(/\s/g, " "), "87,3 %");
  assert.equal(pairs.formatEfficiency("en", null), "—");
  assert.equal(pairs.formatEfficiency("en", NaN), "—");
});

test("cable resistance in milliohms below an ohm, ohms above, a dash without current", () => {
  assert.equal(pairs.formatResistance("en", 0.0482), "48.2 mΩ");
  assert.equal(pairs.formatResistance("en", 0.0041), "4.10 mΩ");
  assert.equal(pairs.formatResistance("en", 0.25), "250 mΩ");
  assert.equal(pairs.formatResistance("en", 1.254), "1.254 Ω");
  assert.equal(pairs.formatResistance("en", 12.5), "12.50 Ω");
  assert.equal(pairs.formatResistance("fr", 0.0482), "48,2 mΩ");
  assert.equal(pairs.formatResistance("en", null), "—");
  assert.equal(pairs.formatResistance("en", undefined), "—");
  assert.equal(pairs.formatWatts("en", 0.41234), "0.412 W");
  assert.equal(pairs.formatWattHours("en", 0.012345), "0.0123 Wh");
  assert.equal(pairs.formatWatts("en", null), "—");
  assert.equal(pairs.formatVoltageOffset("en", 0.0125), "12.5 mV");
  assert.equal(pairs.formatVoltageOffset("en", -0.002), "-2.0 mV");
  assert.equal(pairs.formatVoltageOffset("fr", 6.7924), "6,792 V");
  assert.equal(pairs.formatVoltageOffset("en", null), "—");
});

test("a calibration is shown only when it is in force", () => {
  assert.equal(pairs.calibrationOf(null), null);
  assert.equal(pairs.calibrationOf({ applied: false, apparent_efficiency: null, voltage_offset_v: null }), null);
  assert.deepEqual(
    pairs.calibrationOf({ applied: true, apparent_efficiency: 0.99, voltage_offset_v: 0.012 }),
    { efficiency: 0.99, offsetV: 0.012 },
  );
  assert.deepEqual(pairs.calibrationOf({ apparent_efficiency: 0.98, voltage_offset_v: 0.01, sample_count: 60 }), {
    efficiency: 0.98,
    offsetV: 0.01,
  });
  assert.deepEqual(pairs.calibrationOf({ efficiency: 0.97, voltage_offset_v: 0, applied: true }), {
    efficiency: 0.97,
    offsetV: 0,
  });
});

test("a pair's series become chart columns with efficiency in percent and gaps kept", () => {
  const cols = pairs.pairColumns([
    { timestamp: iso(100), power_in: 10, power_out: 8.8, efficiency: 0.88, loss_w: 1.2 },
    { timestamp: iso(101), power_in: 0.1, power_out: 0.05, efficiency: null, loss_w: 0.05 },
    { timestamp: "bad", power_in: 1, power_out: 1, efficiency: 1 },
  ]);
  assert.deepEqual(cols[0], [100, 101]);
  assert.deepEqual(cols[1], [10, 0.1]);
  assert.deepEqual(cols[2], [8.8, 0.05]);
  assert.ok(Math.abs(cols[3][0] - 88) < 1e-9);
  assert.equal(cols[3][1], null);
  assert.deepEqual(pairs.pairColumns(undefined), [[], [], [], []]);
});

test("several meters join on one time axis: interleaved points are spanned, gaps stay gaps", () => {
  const b = new BenchSeries(["power"]);
  b.setMeters([
    { id: "in", slot: 0, name: "in" },
    { id: "out", slot: 1, name: "out" },
  ]);
  b.load("in", [0, 1, 2, 10].map((t) => ({ timestamp: iso(1000 + t), power: 10 + t })), 0, 1);
  b.load("out", [0.5, 1.5].map((t) => ({ timestamp: iso(1000 + t), power: 8 + t })), 0, 1);
  const [x, pin, pout] = b.columns("power");
  assert.deepEqual(x.map((v) => v - 1000), [0, 0.5, 1, 1.5, 2, 3, 10]);
  // "in" has a gap marker (null) at 3 between 2 and 10; "out" is absent (undefined) elsewhere.
  assert.deepEqual(pin, [10, undefined, 11, undefined, 12, null, 20]);
  assert.deepEqual(pout, [undefined, 8.5, undefined, 9.5, undefined, undefined, undefined]);
  assert.equal(b.pointCount, 6);
  assert.equal(b.valueAt("power", 1, 2), 8.5); // the latest point before the cursor
  assert.equal(b.valueAt("power", 0, 5), null); // a gap reads as none
  assert.equal(b.append("in", 1011, { power: 21 }), true);
  assert.equal(b.append("nobody", 1011, { power: 1 }), false);
  assert.deepEqual(b.columns("power")[0].at(-1), 1011);
  b.trimBefore(1001.2);
  assert.deepEqual(b.columns("power")[0].map((v) => v - 1000), [1.5, 2, 3, 10, 11]);
});

test("a bench change keeps the buffers of the meters still there", () => {
  const b = new BenchSeries(["current"]);
  b.setMeters([{ id: "a", slot: 0, name: "a" }]);
  b.append("a", 5, { current: 1 });
  b.setMeters([
    { id: "a", slot: 0, name: "a" },
    { id: "b", slot: 1, name: "b" },
  ]);
  assert.equal(b.buffer("a").x.length, 1);
  assert.equal(b.buffer("b").x.length, 0);
  b.setMeters([{ id: "b", slot: 0, name: "b" }]);
  assert.equal(b.buffer("a"), null);
  assert.deepEqual(b.columns("current"), [[]].concat([[]]));
});

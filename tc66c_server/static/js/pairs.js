// Meter pairs as the page shows them: the windows offered, efficiency, loss, energy and
// cable resistance in words and units, the calibration in force, and the chart columns of a
// pair's series. Pure functions: the locale is passed in.

import { formatNumber, parseTimestamp } from "./format.js";

/** The windows a pair's results are offered over (the server allows up to 24 h). */
export const PAIR_WINDOWS = ["1m", "10m", "1h"];
export const DEFAULT_PAIR_WINDOW = "1m";

const percentFormats = new Map();

/** A ratio (0.873) as a percentage with one decimal ("87.3 %" / "87,3 %"), or "—". */
export function formatEfficiency(locale, ratio) {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return "—";
  let f = percentFormats.get(locale);
  if (!f) {
    f = new Intl.NumberFormat(locale, {
      style: "percent",
      minimumFractionDigits: 1,
      maximumFractionDigits: 1,
    });
    percentFormats.set(locale, f);
  }
  return f.format(ratio);
}

/** Decimals that keep about three significant digits for a magnitude below 1000. */
function decimalsFor(magnitude) {
  if (magnitude < 10) return 2;
  if (magnitude < 100) return 1;
  return 0;
}

/**
 * A resistance in ohms as text with its unit: milliohms below 1 Ω ("48.2 mΩ"), ohms from
 * there ("1.25 Ω"); "—" when the server had too little current to measure it (null).
 */
export function formatResistance(locale, ohm) {
  if (ohm === null || ohm === undefined || !Number.isFinite(ohm)) return "—";
  const abs = Math.abs(ohm);
  if (abs < 1) {
    const milli = ohm * 1000;
    return `${formatNumber(locale, milli, decimalsFor(Math.abs(milli)))} mΩ`;
  }
  return `${formatNumber(locale, ohm, Math.min(3, decimalsFor(abs) + 1))} Ω`;
}

/** A power in watts with its unit ("0.412 W"), or "—". */
export function formatWatts(locale, watts) {
  if (watts === null || watts === undefined || !Number.isFinite(watts)) return "—";
  return `${formatNumber(locale, watts, 3)} W`;
}

/** An energy in watt-hours with its unit ("0.0123 Wh"), or "—". */
export function formatWattHours(locale, wh) {
  if (wh === null || wh === undefined || !Number.isFinite(wh)) return "—";
  return `${formatNumber(locale, wh, 4)} Wh`;
}

/** A voltage offset with its unit: millivolts below a volt ("12.5 mV"), volts from there. */
export function formatVoltageOffset(locale, volts) {
  if (volts === null || volts === undefined || !Number.isFinite(volts)) return "—";
  if (Math.abs(volts) < 1) return `${formatNumber(locale, volts * 1000, 1)} mV`;
  return `${formatNumber(locale, volts, 3)} V`;
}

/**
 * The calibration in force, or null: `{efficiency, offsetV}` from a pair (as listed, or as a
 * result's `calibration` with its `applied` flag). An entry with neither value is none.
 */
export function calibrationOf(calibration) {
  if (!calibration || typeof calibration !== "object" || calibration.applied === false) {
    return null;
  }
  const efficiency = finiteOrNull(calibration.apparent_efficiency ?? calibration.efficiency);
  const offsetV = finiteOrNull(calibration.voltage_offset_v);
  if (efficiency === null && offsetV === null) return null;
  return { efficiency, offsetV };
}

/**
 * The uPlot columns of a pair's series: [x (unix s), power in (W), power out (W),
 * efficiency (%)]. A hidden efficiency (null: input too low, or a load step) stays a gap.
 */
export function pairColumns(points) {
  const x = [];
  const powerIn = [];
  const powerOut = [];
  const efficiency = [];
  for (const p of Array.isArray(points) ? points : []) {
    const ts = parseTimestamp(p.timestamp);
    if (!Number.isFinite(ts)) continue;
    x.push(ts);
    powerIn.push(finiteOrNull(p.power_in));
    powerOut.push(finiteOrNull(p.power_out));
    const e = finiteOrNull(p.efficiency);
    efficiency.push(e === null ? null : e * 100);
  }
  return [x, powerIn, powerOut, efficiency];
}

function finiteOrNull(v) {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

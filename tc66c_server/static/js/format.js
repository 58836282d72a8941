// Locale-aware formatting and parsing of numbers, times and durations.
// Pure functions: the locale is passed in (i18n.js owns which one is current).

import { BY_KEY } from "./quantities.js";

const numberFormats = new Map();

function numberFormat(locale, options) {
  const id = `${locale}|${JSON.stringify(options)}`;
  let f = numberFormats.get(id);
  if (!f) {
    f = new Intl.NumberFormat(locale, options);
    numberFormats.set(id, f);
  }
  return f;
}

/** A number with exactly `decimals` digits after the separator, or "—" when missing. */
export function formatNumber(locale, value, decimals) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return numberFormat(locale, {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  }).format(value);
}

/** A quantity's value at the meter's resolution (no unit), or "—" when missing. */
export function formatQuantity(locale, key, value) {
  const q = BY_KEY[key];
  return formatNumber(locale, value, q ? q.decimals : 3);
}

/** A duration in the largest two units that matter: "45 s", "2 min", "3 h 5 min", "2 d 4 h". */
export function formatDuration(locale, seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const s = Math.max(0, seconds);
  const unit = (n, u) =>
    numberFormat(locale, { style: "unit", unit: u, unitDisplay: "short" }).format(n);
  if (s < 10) return unit(Math.round(s * 10) / 10, "second");
  if (s < 60) return unit(Math.floor(s), "second");
  if (s < 3600) return unit(Math.floor(s / 60), "minute");
  if (s < 86400) {
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return m ? `${unit(h, "hour")} ${unit(m, "minute")}` : unit(h, "hour");
  }
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  return h ? `${unit(d, "day")} ${unit(h, "hour")}` : unit(d, "day");
}

const dateFormats = new Map();

function dateFormat(locale, options) {
  const id = `${locale}|${JSON.stringify(options)}`;
  let f = dateFormats.get(id);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, options);
    dateFormats.set(id, f);
  }
  return f;
}

/**
 * A unix time (seconds) as local 24-hour clock time (an instrument's convention, and compact
 * on chart axes); `precision` is "s", "ds" (tenths) or "min".
 */
export function formatClock(locale, tsS, precision = "s") {
  const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  if (precision !== "min") options.second = "2-digit";
  if (precision === "ds") options.fractionalSecondDigits = 1;
  return dateFormat(locale, options).format(new Date(tsS * 1000));
}

/** A unix time (seconds) as a short local date ("19 Jan"). */
export function formatDay(locale, tsS) {
  return dateFormat(locale, { day: "numeric", month: "short" }).format(new Date(tsS * 1000));
}

/** A unix time (seconds) as full local date and time, for tooltips. */
export function formatDateTime(locale, tsS) {
  return dateFormat(locale, { dateStyle: "medium", timeStyle: "medium", hourCycle: "h23" }).format(
    new Date(tsS * 1000),
  );
}

/**
 * Unix seconds from the API's ISO 8601 timestamp, keeping the microseconds
 * (Date.parse is only specified for milliseconds).
 */
export function parseTimestamp(iso) {
  if (typeof iso !== "string") return NaN;
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:?\d{2})?$/.exec(iso);
  if (!m) return Date.parse(iso) / 1000;
  const whole = Date.parse(m[1] + (m[3] || "")) / 1000;
  const fraction = m[2] ? Number(`0.${m[2]}`) : 0;
  return whole + fraction;
}

/** A number typed by a person in either locale ("0,5" or "0.5"); NaN when it is not one. */
export function parseDecimal(text) {
  const s = String(text).trim().replace(/[\s\u00a0\u202f]/g, "").replace(",", ".");
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) return NaN;
  return Number(s);
}

/** A number as a person would type it in `locale` (no grouping, up to 3 decimals). */
export function formatPlain(locale, value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "";
  return numberFormat(locale, { maximumFractionDigits: 3, useGrouping: false }).format(value);
}

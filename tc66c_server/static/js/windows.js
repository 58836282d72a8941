// Time windows: the presets offered, parsing the API's period syntax, which presets the
// server's retention can fill, and their names on screen.

import { formatDuration } from "./format.js";
import { has, locale, t } from "./i18n.js";

/** The window presets, shortest first, in the API's period syntax. */
export const PRESETS = ["30s", "1m", "5m", "15m", "1h", "6h", "24h", "7d"];

export const DEFAULT_WINDOW = "5m";

const UNIT_S = { d: 86400, h: 3600, m: 60, s: 1 };

/** Seconds in a period such as "30s", "5m", "1h30m", "2d"; NaN when it is not one. */
export function periodSeconds(period) {
  if (typeof period !== "string" || !/^(\d+[dhms])+$/.test(period)) return NaN;
  let total = 0;
  for (const [, n, u] of period.matchAll(/(\d+)([dhms])/g)) total += Number(n) * UNIT_S[u];
  return total > 0 ? total : NaN;
}

/** The shortest period string for a whole number of seconds (5400 -> "1h30m"). */
export function formatPeriod(seconds) {
  let rest = Math.max(1, Math.ceil(seconds));
  let out = "";
  for (const [u, size] of Object.entries(UNIT_S)) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${u}`;
      rest -= n * size;
    }
  }
  return out;
}

/**
 * The windows to offer for a retention: every preset that fits, plus the whole retention
 * when it falls between presets (so all stored data stays reachable).
 */
export function availableWindows(retentionMinutes) {
  const limitS = Number.isFinite(retentionMinutes) && retentionMinutes > 0
    ? retentionMinutes * 60
    : Infinity;
  const fitting = PRESETS.filter((p) => periodSeconds(p) <= limitS);
  if (limitS !== Infinity && !fitting.some((p) => periodSeconds(p) === limitS)) {
    if (limitS > periodSeconds(PRESETS[0]) && limitS < periodSeconds(PRESETS.at(-1))) {
      fitting.push(formatPeriod(limitS));
    }
  }
  return fitting.length ? fitting : [PRESETS[0]];
}

/** The window to show: the wanted one if offered, else the longest offered one below it. */
export function pickWindow(wanted, offered) {
  if (offered.includes(wanted)) return wanted;
  const wantedS = periodSeconds(wanted);
  const below = offered.filter((p) => periodSeconds(p) <= wantedS);
  return below.length ? below.at(-1) : offered[0];
}

/** A window's short name on screen ("5 min", "24 h"). */
export function windowName(period) {
  const key = `window.${period}`;
  return has(key) ? t(key) : formatDuration(locale(), periodSeconds(period));
}

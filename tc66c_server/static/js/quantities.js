// Each quantity the meter measures, as the dashboard shows it.
// Mirrors tc66c_server/quantities.py (key, unit, decimals = the meter's resolution); names on
// screen come from the catalogs as "q.<key>".

/** @typedef {{key: string, unit: string, decimals: number}} Quantity */

/** @type {Quantity[]} */
export const QUANTITIES = [
  { key: "voltage", unit: "V", decimals: 4 },
  { key: "current", unit: "A", decimals: 5 },
  { key: "power", unit: "W", decimals: 4 },
  { key: "resistance", unit: "Ω", decimals: 1 },
  { key: "temperature", unit: "°C", decimals: 0 },
  { key: "d_plus", unit: "V", decimals: 2 },
  { key: "d_minus", unit: "V", decimals: 2 },
  { key: "group0_mah", unit: "mAh", decimals: 0 },
  { key: "group0_mwh", unit: "mWh", decimals: 0 },
  { key: "group1_mah", unit: "mAh", decimals: 0 },
  { key: "group1_mwh", unit: "mWh", decimals: 0 },
];

/** @type {Record<string, Quantity>} */
export const BY_KEY = Object.fromEntries(QUANTITIES.map((q) => [q.key, q]));

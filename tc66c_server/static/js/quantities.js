// Each quantity the meter measures, as the dashboard shows it.
// Mirrors tc66c_server/quantities.py (key, unit, decimals = the meter's resolution);
// the label is a catalog key so the name follows the page language.

/** @typedef {{key: string, unit: string, decimals: number, label: string}} Quantity */

/** @type {Quantity[]} */
export const QUANTITIES = [
  { key: "voltage", unit: "V", decimals: 4, label: "q.voltage" },
  { key: "current", unit: "A", decimals: 5, label: "q.current" },
  { key: "power", unit: "W", decimals: 4, label: "q.power" },
  { key: "resistance", unit: "Ω", decimals: 1, label: "q.resistance" },
  { key: "temperature", unit: "°C", decimals: 0, label: "q.temperature" },
  { key: "d_plus", unit: "V", decimals: 2, label: "q.d_plus" },
  { key: "d_minus", unit: "V", decimals: 2, label: "q.d_minus" },
  { key: "group0_mah", unit: "mAh", decimals: 0, label: "q.group0_mah" },
  { key: "group0_mwh", unit: "mWh", decimals: 0, label: "q.group0_mwh" },
  { key: "group1_mah", unit: "mAh", decimals: 0, label: "q.group1_mah" },
  { key: "group1_mwh", unit: "mWh", decimals: 0, label: "q.group1_mwh" },
];

/** The quantities always present in a data point, in chart order. */
export const CORE_KEYS = ["voltage", "current", "power"];

/** @type {Record<string, Quantity>} */
export const BY_KEY = Object.fromEntries(QUANTITIES.map((q) => [q.key, q]));

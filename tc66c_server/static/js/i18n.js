// The page language: picked from the browser, switchable, remembered. Every visible string
// comes from one catalog per language (static/i18n/<lang>.js).

import en from "../i18n/en.js";
import fr from "../i18n/fr.js";

const CATALOGS = { en, fr };
const STORAGE_KEY = "tc66c.lang";
const listeners = [];
let current = "en";

/** The languages offered, as [code, name in that language]. */
export const LANGUAGES = [
  ["en", "English"],
  ["fr", "Français"],
];

/** The remembered language, else the first browser language we have, else English. */
export function detectLanguage() {
  let stored = null;
  try {
    stored = localStorage.getItem(STORAGE_KEY);
  } catch {
    stored = null;
  }
  if (stored && CATALOGS[stored]) return stored;
  const wanted = navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const tag of wanted) {
    const base = String(tag || "").toLowerCase().split("-")[0];
    if (CATALOGS[base]) return base;
  }
  return "en";
}

/** The current language code. */
export function language() {
  return current;
}

/**
 * The locale for numbers and dates: the browser's own when it is in the page language
 * (fr-CA, en-GB keep their conventions), else the bare language.
 */
export function locale() {
  const tag = navigator.language || "";
  return tag.toLowerCase().split("-")[0] === current ? tag : current;
}

/** The catalog text for `key` with {placeholders} filled; English, then the key, as fallback. */
export function t(key, params) {
  let text = CATALOGS[current][key] ?? CATALOGS.en[key] ?? key;
  if (params) {
    text = text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
  }
  return text;
}

/** Whether the catalog of the current language (or English) has `key`. */
export function has(key) {
  return key in CATALOGS[current] || key in CATALOGS.en;
}

/** Fill every element marked data-i18n (text) and data-i18n-attr ("attr:key;attr:key"). */
export function translateDom(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of el.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":").map((s) => s.trim());
      if (attr && key) el.setAttribute(attr, t(key));
    }
  }
}

/**
 * Switch the page to `lang`, remember it when the person chose it, and tell every listener
 * to re-render.
 */
export function setLanguage(lang, { remember = true } = {}) {
  current = CATALOGS[lang] ? lang : "en";
  if (remember) {
    try {
      localStorage.setItem(STORAGE_KEY, current);
    } catch {
      // Not remembered when storage is disabled; the page still switches.
    }
  }
  document.documentElement.lang = current;
  document.title = t("app.title");
  translateDom();
  for (const fn of listeners) fn(current);
}

/** Call `fn(lang)` after every language switch. */
export function onLanguageChange(fn) {
  listeners.push(fn);
}

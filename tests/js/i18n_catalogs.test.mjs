import test from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";

const root = new URL("../../tc66c_server/static/", import.meta.url);
const { default: en } = await import(new URL("i18n/en.js", root).href);
const { default: fr } = await import(new URL("i18n/fr.js", root).href);

test("French and English catalogs have the same keys", () => {
  assert.deepEqual(Object.keys(fr).sort(), Object.keys(en).sort());
});

test("every key the page uses statically exists in the catalogs", () => {
  const jsDir = new URL("js/", root);
  const sources = fs.readdirSync(jsDir).map((f) => fs.readFileSync(new URL(f, jsDir), "utf8"));
  sources.push(fs.readFileSync(new URL("index.html", root), "utf8"));
  const text = sources.join("\n");
  const used = new Set([
    ...[...text.matchAll(/\bt\("([\w.]+)"/g)].map((m) => m[1]),
    ...[...text.matchAll(/data-i18n="([\w.]+)"/g)].map((m) => m[1]),
  ]);
  const missing = [...used].filter((k) => !(k in en));
  assert.deepEqual(missing, []);
});

test("no catalog string is empty", () => {
  for (const catalog of [en, fr]) {
    for (const [key, value] of Object.entries(catalog)) {
      assert.ok(typeof value === "string" && value.length > 0, key);
    }
  }
});

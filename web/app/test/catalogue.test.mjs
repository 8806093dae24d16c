// Both languages have exactly the same keys, no empty string, and the same
// placeholders in each string.
import assert from "node:assert/strict";
import { test } from "node:test";
import { en } from "../dist/js/catalogue/en.js";
import { zh } from "../dist/js/catalogue/zh.js";

const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test("English and Chinese have exactly the same keys", () => {
  assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort());
});

test("no string is empty in either language", () => {
  for (const [lang, cat] of [["en", en], ["zh-CN", zh]]) {
    for (const [k, v] of Object.entries(cat)) assert.ok(typeof v === "string" && v.trim().length > 0, `${lang} ${k} is empty`);
  }
});

test("each string has the same placeholders in both languages", () => {
  for (const k of Object.keys(en)) assert.deepEqual(placeholders(zh[k]), placeholders(en[k]), k);
});

test("the Chinese catalogue is Chinese where it can be", () => {
  const han = Object.values(zh).filter((v) => /[\u4e00-\u9fff]/.test(v)).length;
  assert.ok(han / Object.keys(zh).length > 0.9, `only ${han} Chinese strings`);
});

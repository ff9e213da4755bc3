// The page-content gate's pure text helpers (isolator/src/gates/page/page_text.js),
// and a syntax check of every script the server installs in pages.
// Card numbers are issuers' published test numbers (Visa 4111 1111 1111 1111,
// Mastercard 5555 5555 5555 4444, Amex 3782 822463 10005).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import vm from "node:vm";

const require = createRequire(import.meta.url);
const root = new URL("../../src/", import.meta.url);
const text = require(new URL("gates/page/page_text.js", root).pathname);

test("luhn accepts issuers' test numbers and refuses one digit off", () => {
  for (const ok of ["4111111111111111", "5555555555554444", "378282246310005", "0"]) {
    assert.equal(text.luhn(ok), true, ok);
  }
  for (const bad of ["4111111111111112", "5555555555554445", "", "41x1"]) {
    assert.equal(text.luhn(bad), false, bad);
  }
});

test("plausible applies the card check only where asked", () => {
  assert.equal(text.plausible("luhn", "4111 1111 1111 1111"), true);
  assert.equal(text.plausible("luhn", "4111 1111 1111 1112"), false);
  // Too short for a card even when Luhn passes.
  assert.equal(text.plausible("luhn", "4111 1111 11"), false);
  assert.equal(text.plausible(undefined, "anything"), true);
});

test("spans find checked pattern matches and exact values, hide keeps separators", () => {
  const patterns = [{ re: /\b(?:\d[ -]?){12,18}\d\b/g, check: "luhn" }];
  const line = "card 4111 1111 1111 1111 and 4111 1111 1111 1112, ref XK-42";
  const found = text.spans(line, patterns, ["XK-42"]);
  assert.deepEqual(found, [[5, 24], [54, 59]]);
  const hidden = text.hide(line, found);
  assert.equal(hidden, "card \u2022\u2022\u2022\u2022 \u2022\u2022\u2022\u2022 \u2022\u2022\u2022\u2022 \u2022\u2022\u2022\u2022 and 4111 1111 1111 1112, ref \u2022\u2022-\u2022\u2022");
  assert.equal(hidden.length, line.length);
});

test("short texts and empty values hide nothing and never loop", () => {
  const patterns = [{ re: /x*/g }];
  assert.deepEqual(text.spans("abc", patterns, []), []);
  assert.deepEqual(text.spans("abcd efg", patterns, [""]), []);
});

test("every page script the server installs parses", () => {
  for (const f of [
    "gates/page/page_text.js",
    "gates/page/page_content.js",
    "gates/page/page_content_hooks.js",
    "session/page_script.js",
    "session/page_copy.js",
  ]) {
    const source = readFileSync(new URL(f, root), "utf8");
    assert.doesNotThrow(() => new vm.Script(source, { filename: f }), f);
  }
});

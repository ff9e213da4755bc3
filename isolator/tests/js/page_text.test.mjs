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
    "gates/page/page_drawn.js",
    "gates/page/page_content.js",
    "gates/page/page_content_hooks.js",
    "session/page_script.js",
    "session/page_copy.js",
  ]) {
    const source = readFileSync(new URL(f, root), "utf8");
    assert.doesNotThrow(() => new vm.Script(source, { filename: f }), f);
  }
});

test("contentText reads strings, attr() and counters as the page draws them", () => {
  const attr = (n) => ({ "data-x": "4111 1111", title: "t" })[n];
  const counter = (n) => ({ a: [4111], b: [1, 2] })[n];
  assert.equal(text.contentText('"4111 1111 1111 1111"', attr, counter), "4111 1111 1111 1111");
  assert.equal(text.contentText('"a\\"b" "\\34 111"', attr, counter), 'a"b4111');
  assert.equal(text.contentText('attr(data-x) " 1111"', attr, counter), "4111 1111 1111");
  assert.equal(text.contentText('counter(a) " " counters(b, ".")', attr, counter), "4111 1.2");
  assert.equal(text.contentText("counter(missing)", attr, counter), "0");
  assert.equal(text.contentText('url("x.png") open-quote "x" / "alt 4111"', attr, counter), "x");
  assert.equal(text.contentText("none", attr, counter), "");
  assert.equal(text.contentText("normal", attr, counter), "");
});

test("applyCounters follows reset, set and increment", () => {
  const v = new Map();
  text.applyCounters(v, "a 4111 b", "none", "none");
  assert.deepEqual([...v], [["a", 4111], ["b", 0]]);
  text.applyCounters(v, "none", "b 1110", "b");
  assert.equal(v.get("b"), 1111);
  text.applyCounters(v, "none", "none", "a -10 c");
  assert.deepEqual([v.get("a"), v.get("c")], [4101, 1]);
});

test("spans sees values behind other separators and drawn reversed", () => {
  const card = [{ name: "credit_card", re: /\b(?:\d[ -]?){12,18}\d\b/g, check: "luhn" }];
  const hidden = (t) => text.hide(t, text.spans(t, card, []));
  assert.equal(hidden("Card 4111.1111.1111.1111 ok"), "Card ••••.••••.••••.•••• ok");
  assert.equal(hidden("Card 4111\u202f1111\u202f1111\u202f1111"), "Card ••••\u202f••••\u202f••••\u202f••••");
  // <bdo dir=rtl> draws every character reversed.
  assert.equal(hidden("1111 1111 1111 1114"), "•••• •••• •••• ••••");
  // A right-to-left paragraph draws the groups in reverse order.
  assert.equal(hidden("1111 1111 1111 4111"), "•••• •••• •••• ••••");
  // Not every long number: neither order passes Luhn.
  assert.equal(hidden("1234 5678 9012 3456"), "1234 5678 9012 3456");
  assert.equal(hidden("version 1.2.3"), "version 1.2.3");
});

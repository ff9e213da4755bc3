// Unit tests of the replay player's pure helpers: the bundle reader (tar and
// the record format of isolator/src/audit/format.rs) and event descriptions.
// Run: node --test web-client/tests/

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { untar, parseBundle, bundleSource } from '../admin/replay/bundle.js';
import { clock, describe, isIncident } from '../admin/replay/api.js';

/** One record: len u32 | kind u8 | seq u64 | mono u64 | wall i64 | payload | hash[32]. */
function record(kind, seq, mono, payload) {
  const len = 25 + payload.length;
  const buf = new Uint8Array(4 + len + 32);
  const v = new DataView(buf.buffer);
  v.setUint32(0, len, true);
  buf[4] = kind;
  v.setUint32(5, seq, true);
  v.setUint32(13, mono, true);
  v.setUint32(21, 1000 + mono, true);
  buf.set(payload, 29);
  return buf;
}

function frame(tab, w, h, jpeg) {
  const p = new Uint8Array(12 + jpeg.length);
  const v = new DataView(p.buffer);
  v.setUint32(0, tab, true); v.setUint32(4, w, true); v.setUint32(8, h, true);
  p.set(jpeg, 12);
  return p;
}

function frameRef(tab, w, h, seg, offset) {
  const p = new Uint8Array(24);
  const v = new DataView(p.buffer);
  v.setUint32(0, tab, true); v.setUint32(4, w, true); v.setUint32(8, h, true);
  v.setUint32(12, seg, true); v.setUint32(16, offset, true);
  return p;
}

const json = (o) => new TextEncoder().encode(JSON.stringify(o));

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function tar(files) {
  const parts = [];
  for (const [name, data] of Object.entries(files)) {
    const h = new Uint8Array(512);
    h.set(new TextEncoder().encode(name), 0);
    h.set(new TextEncoder().encode(data.length.toString(8).padStart(11, '0')), 124);
    parts.push(h, data, new Uint8Array((512 - (data.length % 512)) % 512));
  }
  parts.push(new Uint8Array(1024));
  return concat(parts).buffer;
}

function sampleBundle({ cut = 0 } = {}) {
  const header = record(1, 0, 0, new Uint8Array(10));
  const start = record(5, 1, 0, json({ type: 'session_start', session: 's', user: 'u', groups: [], client_addr: '1.2.3.4:5', user_agent: 'x' }));
  const f1 = record(3, 2, 100, frame(0, 10, 5, [0xff, 0xd8, 1]));
  const f1At = header.length + start.length;
  const nav = record(5, 3, 150, json({ type: 'navigation', tab: 0, url: 'https://a.example/' }));
  const dec = record(5, 4, 2000, json({ type: 'decision', gate: 'paste', action: 'paste of 3 characters', decision: 'block', detectors: ['email'], evidence: [], reason: 'r' }));
  const rep = record(4, 5, 2500, frameRef(0, 10, 5, 1, f1At));
  const f2 = record(3, 6, 3000, frame(0, 10, 5, [0xff, 0xd8, 2]));
  let seg = concat([header, start, f1, nav, dec, rep, f2]);
  if (cut) seg = seg.subarray(0, seg.length - cut);
  return tar({ 'manifest.json': json({ session: 's', status: 'intact' }), 'segments/000001.seg': seg });
}

test('untar finds entries and refuses a cut archive', () => {
  const files = untar(tar({ a: new Uint8Array([1, 2, 3]), 'b/c': new Uint8Array(600) }));
  assert.deepEqual([...files.a], [1, 2, 3]);
  assert.equal(files['b/c'].length, 600);
  const whole = new Uint8Array(tar({ a: new Uint8Array(1000) }));
  assert.throws(() => untar(whole.slice(0, 700).buffer), /cut short/);
});

test('a bundle parses into timed records with repeats resolved', () => {
  const b = parseBundle(sampleBundle());
  assert.equal(b.manifest.session, 's');
  assert.deepEqual(b.records.map((r) => r.t), [0, 100, 150, 2000, 2500, 3000]);
  const frames = b.records.filter((r) => r.event.type === 'frame');
  assert.deepEqual(frames.map((r) => r.event.bytes[2]), [1, 1, 2], 'the repeat shows the first frame');
  assert.deepEqual(b.events.map((r) => r.event.type), ['session_start', 'navigation', 'decision']);
  assert.equal(b.duration, 3000);
});

test('a crash-truncated tail is ignored, the rest plays', () => {
  const b = parseBundle(sampleBundle({ cut: 10 }));
  assert.equal(b.records.at(-1).t, 2500);
});

test('a bundle without a manifest is refused', () => {
  assert.throws(() => parseBundle(tar({ 'x.seg': new Uint8Array(4) })), /no manifest/);
});

test('seeking a bundle gives the frame on screen and the records after', async () => {
  const src = bundleSource(parseBundle(sampleBundle()));
  const c = await src.chunk(2200, 600);
  assert.equal(c.frame.t, 100);
  assert.deepEqual(c.records.map((r) => r.t), [2500]);
  assert.equal(c.more, true);
  const end = await src.chunk(2600, 10000);
  assert.equal(end.frame.t, 2500);
  assert.equal(end.more, false);
  const before = await src.chunk(0, 50);
  assert.equal(before.frame, null);
});

test('descriptions never invent what the recording does not hold', () => {
  assert.equal(clock(3_725_000), '1:02:05');
  assert.equal(clock(65_000), '1:05');
  assert.equal(describe({ type: 'input', kind: 'text', text_len: 12 }), 'text (12 characters)');
  assert.equal(describe({ type: 'input', kind: 'key', key: '<char>' }), 'key <char>');
  assert.equal(isIncident({ type: 'decision', decision: 'allow', detectors: [] }), false);
  assert.equal(isIncident({ type: 'decision', decision: 'allow', detectors: ['email'] }), true);
  assert.equal(isIncident({ type: 'decision', decision: 'block', detectors: [] }), true);
});

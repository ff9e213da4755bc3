// Unit tests of the viewer's pure helpers. Run: node --test web-client/tests/
// (Node 20+, no dependencies). The browser-driven checks are in smoke.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { parseFrameHeader, HEADER_BYTES, KIND_JPEG } from '../viewer/frames.js';
import { viewportSize } from '../viewer/session.js';
import { tabLabel } from '../viewer/chrome.js';
import { dialogTitle } from '../viewer/dialogs.js';
import { modsOf, MOD_ALT, MOD_CTRL, MOD_META, MOD_SHIFT } from '../viewer/input.js';

function frame({ kind = 1, flags = 0, tab = 0, seq = 0, width = 0, height = 0, jpeg = [0xff, 0xd8] } = {}) {
  const buf = new ArrayBuffer(HEADER_BYTES + jpeg.length);
  const v = new DataView(buf);
  v.setUint8(0, kind);
  v.setUint8(1, flags);
  v.setUint16(2, tab);
  v.setUint32(4, seq);
  v.setUint16(8, width);
  v.setUint16(10, height);
  new Uint8Array(buf, HEADER_BYTES).set(jpeg);
  return buf;
}

test('frame header fields are big-endian and at the documented offsets', () => {
  const h = parseFrameHeader(frame({ flags: 1, tab: 513, seq: 0x01020304, width: 1280, height: 720 }));
  assert.deepEqual(h, { kind: KIND_JPEG, first: true, tab: 513, seq: 0x01020304, width: 1280, height: 720 });
});

test('frame flags other than bit 0 do not mark a first frame', () => {
  assert.equal(parseFrameHeader(frame({ flags: 0b10 })).first, false);
});

test('the largest sequence number survives (u32, not i32)', () => {
  assert.equal(parseFrameHeader(frame({ seq: 0xffffffff })).seq, 0xffffffff);
});

test('a message shorter than the header is refused with its length', () => {
  assert.throws(() => parseFrameHeader(new ArrayBuffer(15)), /15 bytes, shorter than the 16-byte header/);
  assert.throws(() => parseFrameHeader('text'), /not an ArrayBuffer/);
});

test('viewport sizes are clamped to the protocol ranges', () => {
  assert.deepEqual(viewportSize(1280.4, 719.6, 1), { width: 1280, height: 720, dpr: 1 });
  assert.deepEqual(viewportSize(20, 99999, 9), { width: 100, height: 4096, dpr: 4 });
  assert.deepEqual(viewportSize(800, 600, 0.25), { width: 800, height: 600, dpr: 0.5 });
  assert.deepEqual(viewportSize(800, 600, 0), { width: 800, height: 600, dpr: 1 });
  assert.equal(viewportSize(800, 600, 1.3333333).dpr, 1.33);
});

test('tab labels fall back from title to host to URL', () => {
  assert.equal(tabLabel({ id: 1, url: 'https://a.example/x', title: '  Docs ' }), 'Docs');
  assert.equal(tabLabel({ id: 1, url: 'https://a.example:8443/x', title: '' }), 'a.example:8443');
  assert.equal(tabLabel({ id: 1, url: 'about:blank', title: '' }), 'about:blank');
  assert.equal(tabLabel({ id: 1, url: '', title: '' }), 'New tab');
});

test('dialog titles name the asking site', () => {
  assert.equal(dialogTitle('confirm', 'https://bank.example/pay'), 'bank.example says');
  assert.equal(dialogTitle('alert', 'about:blank'), 'This page says');
  assert.equal(dialogTitle('alert', ''), 'This page says');
  assert.equal(dialogTitle('beforeunload', 'https://x.example/'), 'Leave this page?');
});

test('modifier bits follow CDP: Alt 1, Ctrl 2, Meta 4, Shift 8', () => {
  assert.deepEqual([MOD_ALT, MOD_CTRL, MOD_META, MOD_SHIFT], [1, 2, 4, 8]);
  assert.equal(modsOf({ altKey: false, ctrlKey: false, metaKey: false, shiftKey: false }), 0);
  assert.equal(modsOf({ altKey: true, ctrlKey: false, metaKey: false, shiftKey: true }), 9);
  assert.equal(modsOf({ altKey: true, ctrlKey: true, metaKey: true, shiftKey: true }), 15);
});

test('Mac clients: Cmd arrives as Ctrl (and Ctrl as Meta)', async () => {
  const { macToPc } = await import('../viewer/input.js');
  const ev = (o) => ({ altKey: false, ctrlKey: false, metaKey: false, shiftKey: false, key: 'c', code: 'KeyC', keyCode: 67, ...o });
  assert.deepEqual(macToPc(ev({ metaKey: true })), { key: 'c', code: 'KeyC', keyCode: 67, mods: MOD_CTRL });
  assert.deepEqual(macToPc(ev({ metaKey: true, shiftKey: true })), { key: 'c', code: 'KeyC', keyCode: 67, mods: MOD_CTRL | MOD_SHIFT });
  assert.deepEqual(macToPc(ev({ ctrlKey: true })).mods, MOD_META);
  assert.deepEqual(macToPc(ev({ key: 'Meta', code: 'MetaLeft', keyCode: 91, metaKey: true })), { key: 'Control', code: 'ControlLeft', keyCode: 17, mods: MOD_CTRL });
  assert.deepEqual(macToPc(ev({ key: 'Meta', code: 'MetaRight', keyCode: 93, metaKey: true })).code, 'ControlRight');
  assert.deepEqual(macToPc(ev({ key: 'Control', code: 'ControlLeft', keyCode: 17, ctrlKey: true })), { key: 'Meta', code: 'MetaLeft', keyCode: 91, mods: MOD_META });
});

import { formatSize, uploadUrl } from '../viewer/transfer.js';

test('file sizes read as bytes, KB and MB', () => {
  assert.equal(formatSize(0), '0 bytes');
  assert.equal(formatSize(1023), '1023 bytes');
  assert.equal(formatSize(1536), '1.5 KB');
  assert.equal(formatSize(10 * 1024 * 1024), '10.0 MB');
  assert.equal(formatSize(-1), '');
  assert.equal(formatSize(NaN), '');
});

test('upload URLs carry the chooser and an encoded file name', () => {
  assert.equal(uploadUrl('abc', 7, 'a b&c.txt'), '/api/sessions/abc/uploads?chooser=7&name=a+b%26c.txt');
  assert.equal(uploadUrl('x/y', 1, 'r.pdf'), '/api/sessions/x%2Fy/uploads?chooser=1&name=r.pdf');
});

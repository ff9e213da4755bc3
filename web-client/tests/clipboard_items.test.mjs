// Unit tests of the clipboard handling of image paste (clipboard_items.js).
// Run: node --test web-client/tests/

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { clipboardImages, pasteAnswer, pasteImageUrl, MAX_IMAGES } from '../viewer/clipboard_items.js';

const file = (name, type, size = 10) => ({ name, type, size });
const item = (f) => ({ kind: 'file', type: f.type, getAsFile: () => f });
const textItem = (type = 'text/plain') => ({ kind: 'string', type, getAsFile: () => null });

test('a screenshot on the clipboard is found through its item', () => {
  const png = file('image.png', 'image/png');
  const data = { items: [textItem('text/html'), item(png)], files: [png] };
  assert.deepEqual(clipboardImages(data), [png]);
});

test('text only, no data, or non-image files give no image', () => {
  assert.deepEqual(clipboardImages({ items: [textItem()], files: [] }), []);
  assert.deepEqual(clipboardImages(null), []);
  assert.deepEqual(clipboardImages(undefined), []);
  const pdf = file('a.pdf', 'application/pdf');
  assert.deepEqual(clipboardImages({ items: [item(pdf)], files: [pdf] }), []);
});

test('image files are used when no item holds one (files copied in a file manager)', () => {
  const jpg = file('photo.JPG', 'IMAGE/JPEG');
  const txt = file('notes.txt', 'text/plain');
  assert.deepEqual(clipboardImages({ items: [], files: [txt, jpg] }), [jpg]);
});

test('an item whose file cannot be read is skipped, and duplicates are dropped', () => {
  const png = file('image.png', 'image/png');
  const broken = { kind: 'file', type: 'image/png', getAsFile: () => null };
  const data = { items: [broken, item(png), item(png)], files: [png] };
  assert.deepEqual(clipboardImages(data), [png]);
});

test('at most MAX_IMAGES images are taken from one paste', () => {
  const many = Array.from({ length: MAX_IMAGES + 3 }, (_, i) => file(`${i}.png`, 'image/png'));
  const got = clipboardImages({ items: many.map(item), files: [] });
  assert.equal(got.length, MAX_IMAGES);
  assert.equal(got[0], many[0]);
});

test('the URL carries the session and the name, encoded', () => {
  assert.equal(pasteImageUrl('s 1', 'my shot.png'), '/api/sessions/s%201/paste-image?name=my+shot.png');
  assert.equal(pasteImageUrl('abc', ''), '/api/sessions/abc/paste-image?name=');
});

test('answers: the gate\'s JSON, an API error, or anything else fail to "not pasted"', () => {
  assert.deepEqual(pasteAnswer(200, '{"allowed":true,"message":""}'), { allowed: true, message: '' });
  assert.deepEqual(pasteAnswer(200, '{"allowed":false,"message":"Pasting blocked"}'), { allowed: false, message: 'Pasting blocked' });
  const big = pasteAnswer(413, '{"error":"the image is larger than the 10 bytes allowed","code":"too_large"}');
  assert.equal(big.allowed, false);
  assert.match(big.message, /larger than the 10 bytes/);
  assert.deepEqual(pasteAnswer(502, '<html>'), { allowed: false, message: 'The image was not pasted: the server answered HTTP 502.' });
  assert.equal(pasteAnswer(200, 'null').allowed, false);
});

// End-to-end smoke test of the viewer against a running isolator server,
// in a real headless Chromium, with no dependencies (Node 20+):
//
//   isolator serve --listen 127.0.0.1:18080 --web-root web-client   (auth.mode = "none")
//   node web-client/tests/smoke.mjs http://127.0.0.1:18080
//
// It serves its own small test site on 127.0.0.1 (port 0), drives the
// client browser over the DevTools protocol through a pipe
// (--remote-debugging-pipe: no WebSocket library needed) and sends real
// input events to the viewer page, so the viewer's own handlers run.
// Each check prints "ok" or fails with what was expected and what was seen.

import { spawn } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SERVER = (process.argv[2] || 'http://127.0.0.1:18080').replace(/\/$/, '');
const CHROMIUM = process.env.CHROMIUM || '/usr/lib/chromium/chromium';
const T = 30_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- the test site -----------------------------------------------------------

const submits = [];
const PAGES = {
  '/home': `<!doctype html><title>Home</title><body style="margin:0;font:20px sans-serif">
    <a href="/page2" style="display:block;height:60px;background:#eee">page two</a>
    <form action="/submit"><input name="q" style="display:block;width:400px;height:40px;font-size:20px"></form>
    <button style="display:block;height:40px" onclick="location.hash = 'answer=' + confirm('sure?')">confirm</button>
    <div style="height:3000px"></div></body>`,
  '/anim': `<!doctype html><title>Anim</title><body style="margin:0;font:40px sans-serif"><div id="d"></div>
    <script>setInterval(() => { d.textContent = performance.now().toFixed(1); }, 16)</script></body>`,
  '/echo': `<!doctype html><title>Echo</title><body style="margin:0"><input id="i" autofocus style="width:600px;height:40px">
    <script>i.addEventListener('input', () => history.replaceState(null, '', '#' + i.value.length))</script></body>`,
  '/page2': '<!doctype html><title>Page Two</title><body style="margin:0;background:#e01010"><h1>Page Two</h1></body>',
};
const site = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/submit') submits.push(url.search);
  const body = PAGES[url.pathname] ?? '<!doctype html><title>Submitted</title><body>submitted</body>';
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(body);
});
await new Promise((r) => site.listen(0, '127.0.0.1', r));
const SITE = `http://127.0.0.1:${site.address().port}`;

// ---- the client browser, over a DevTools pipe -----------------------------------

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'isolator-smoke-'));
const args = ['--headless', '--disable-gpu', '--remote-debugging-pipe', `--user-data-dir=${profile}`, '--no-first-run',
  '--window-size=1280,800', '--disable-background-networking', '--disable-dev-shm-usage'];
if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
const browser = spawn(CHROMIUM, args, { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
const toBrowser = browser.stdio[3];
const fromBrowser = browser.stdio[4];
let nextId = 0;
const pending = new Map();
let buffered = '';
fromBrowser.on('data', (chunk) => {
  buffered += chunk.toString('utf8');
  let end;
  while ((end = buffered.indexOf('\0')) >= 0) {
    const msg = JSON.parse(buffered.slice(0, end));
    buffered = buffered.slice(end + 1);
    const p = msg.id && pending.get(msg.id);
    if (p) {
      pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
      else p.resolve(msg.result);
    }
  }
});
function cdp(method, params = {}, sessionId) {
  const id = ++nextId;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject, method });
    toBrowser.write(JSON.stringify({ id, method, params, sessionId }) + '\0');
  });
}

const { targetId } = await cdp('Target.createTarget', { url: 'about:blank' });
const { sessionId } = await cdp('Target.attachToTarget', { targetId, flatten: true });
const page = (method, params) => cdp(method, params, sessionId);
await page('Emulation.setDeviceMetricsOverride', { width: 1280, height: 800, deviceScaleFactor: 1, mobile: false });

async function evaluate(expression) {
  const r = await page('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
  if (r.exceptionDetails) throw new Error(`${expression}: ${r.exceptionDetails.exception?.description}`);
  return r.result.value;
}
const state = () => evaluate('window.__isolator ? JSON.parse(JSON.stringify(window.__isolator.state)) : null');
async function waitFor(what, pred, ms = T) {
  const t0 = Date.now();
  let s;
  while (Date.now() - t0 < ms) {
    s = await state();
    if (s && pred(s)) return s;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}; state: ${JSON.stringify(s)}`);
}
async function click(x, y) {
  await page('Input.dispatchMouseEvent', { type: 'mouseMoved', x, y });
  for (const type of ['mousePressed', 'mouseReleased']) {
    await page('Input.dispatchMouseEvent', { type, x, y, button: 'left', buttons: type === 'mousePressed' ? 1 : 0, clickCount: 1 });
  }
}
async function clickViewer(x, y) {
  const o = await evaluate("(() => { const r = document.querySelector('canvas').getBoundingClientRect(); return {x: r.left, y: r.top}; })()");
  await click(o.x + x, o.y + y);
}
async function clickUi(selector) {
  const r = await evaluate(`(() => { const e = document.querySelector(${JSON.stringify(selector)}); if (!e) return null;
    const r = e.getBoundingClientRect(); return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()`);
  if (!r) throw new Error(`no element ${selector} in the viewer`);
  await click(r.x, r.y);
}
async function key(k, { code, vk, text, mods = 0 } = {}) {
  await page('Input.dispatchKeyEvent', { type: text ? 'keyDown' : 'rawKeyDown', key: k, code, windowsVirtualKeyCode: vk, text, modifiers: mods });
  await page('Input.dispatchKeyEvent', { type: 'keyUp', key: k, code, windowsVirtualKeyCode: vk, modifiers: mods });
}
async function type(s) {
  for (const ch of s) {
    const up = ch.toUpperCase();
    const code = /[a-z]/i.test(ch) ? `Key${up}` : /\d/.test(ch) ? `Digit${ch}` : ch === ' ' ? 'Space' : undefined;
    await key(ch, { code, vk: /[a-z0-9]/i.test(ch) ? up.charCodeAt(0) : ch === ' ' ? 32 : undefined, text: ch });
  }
}
const enter = () => key('Enter', { code: 'Enter', vk: 13, text: '\r' });
async function pixel(x, y) {
  return evaluate(`(() => { const c = document.querySelector('canvas'); const s = c.width / c.getBoundingClientRect().width;
    const d = c.getContext('2d').getImageData(Math.floor(${x} * s), Math.floor(${y} * s), 1, 1).data; return [d[0], d[1], d[2]]; })()`);
}
function check(cond, what, seen) {
  if (!cond) throw new Error(`${what}: saw ${JSON.stringify(seen)}`);
  console.log(`ok - ${what}`);
}

// ---- the checks ------------------------------------------------------------------

let failed = false;
try {
  await page('Page.navigate', { url: `${SERVER}/?url=${encodeURIComponent(`${SITE}/home`)}` });
  let s = await waitFor('connected with a frame', (s) => s.connected && s.framesDrawn > 0 && s.url === `${SITE}/home` && !s.loading);
  check(/^\/(\?)?$/.test(await evaluate('location.pathname + location.search')), 'the start URL is removed from the address after start', await evaluate('location.href'));
  check(document_title_ok(await evaluate('document.title'), s), 'the page title (or URL) is the document title', await evaluate('document.title'));

  await clickViewer(100, 80);
  await type('Hello isolated 42');
  await enter();
  s = await waitFor('the form post', (s) => s.url.startsWith(`${SITE}/submit`) && s.canBack);
  check(submits.includes('?q=Hello+isolated+42'), 'typed text reaches the site exactly', submits);

  await clickUi('[data-action=back]');
  s = await waitFor('back home', (s) => s.url === `${SITE}/home` && !s.loading);
  check(s.canForward, 'back enables forward', s);

  await clickViewer(100, 30);
  s = await waitFor('page two by link', (s) => s.url === `${SITE}/page2` && s.framesDrawn > 0 && !s.loading);
  const red = await (async () => {
    for (let i = 0; i < 50; i++) { const p = await pixel(400, 300); if (p[0] > 180 && p[1] < 60 && p[2] < 60) return p; await sleep(100); }
    return pixel(400, 300);
  })();
  check(red[0] > 180 && red[1] < 60 && red[2] < 60, 'the canvas shows the red page', red);

  await clickUi('[data-role=address]');
  const sel = await evaluate('[document.activeElement.dataset.role, document.activeElement.selectionStart, document.activeElement.selectionEnd, document.activeElement.value.length]');
  check(sel[0] === 'address' && sel[1] === 0 && sel[2] === sel[3], 'focusing the address bar selects all', sel);
  await type(`${SITE}/home`);
  await enter();
  s = await waitFor('home by address bar', (s) => s.url === `${SITE}/home` && !s.loading);
  check(await evaluate('document.activeElement.id') === 'keyboard', 'Enter in the address bar gives the keyboard back to the page', await evaluate('document.activeElement.id'));

  await clickViewer(50, 125);
  s = await waitFor('a confirm dialog', (s) => s.dialog && s.dialog.kind === 'confirm');
  check(s.dialog.message === 'sure?', 'the dialog carries the page message', s.dialog);
  await clickUi('[data-action=dialog-ok]');
  s = await waitFor('confirm answered', (s) => s.url.endsWith('#answer=true'));
  check(s.dialog === null, 'the dialog is gone after OK', s.dialog);

  const id = s.sessionId;
  await page('Page.reload', {});
  await sleep(300);
  s = await waitFor('re-attached after reload', (s) => s.connected && s.framesDrawn > 0);
  check(s.sessionId === id && s.url.startsWith(`${SITE}/home`), 'a reload re-attaches to the same session and page', s);

  await evaluate('window.__isolator.dropConnection()');
  await waitFor('reconnecting', (s) => s.connection === 'reconnecting', 5000);
  s = await waitFor('reconnected', (s) => s.connected);
  check(s.sessionId === id, 'a dropped socket re-attaches to the same session', s);

  await clickUi('[data-action=menu]');
  await clickUi('[data-action=end]');
  s = await waitFor('ended', (s) => s.ended);
  check(s.ended.reason === 'closed' && (await evaluate('sessionStorage.length')) === 0, 'End session ends it and forgets it', s.ended);
  await clickUi('[data-action=new-session]');
  s = await waitFor('a new session', (s) => s.connected && !s.ended);
  check(s.sessionId !== id, 'Start a new session starts a different one', s.sessionId);
  // Figures (printed, not asserted: they depend on the machine).
  await clickUi('[data-role=address]');
  await type(`${SITE}/anim`);
  await enter();
  await waitFor('the animated page', (s) => s.url === `${SITE}/anim` && s.framesDrawn > 0);
  await sleep(1000);
  let before = await state();
  const t0 = Date.now();
  await sleep(3000);
  let after = await state();
  const fps = ((after.framesReceived - before.framesReceived) * 1000) / (Date.now() - t0);
  console.log(`info - animated page: ${fps.toFixed(1)} frames/s received, decode+draw ${after.frameMs.toFixed(1)} ms per frame (EWMA)`);

  await clickUi('[data-role=address]');
  await type(`${SITE}/echo`);
  await enter();
  await waitFor('the echo page', (s) => s.url === `${SITE}/echo` && !s.loading);
  await clickViewer(100, 20);
  const lat = [];
  for (let n = 1; n <= 10; n++) {
    const k0 = performance.now();
    await key('x', { code: 'KeyX', vk: 88, text: 'x' });
    await waitFor(`echo ${n}`, (s) => s.url.endsWith(`#${n}`), 10_000);
    lat.push(performance.now() - k0);
    await sleep(100);
  }
  lat.sort((a, b) => a - b);
  console.log(`info - key to remote page and back (state): median ${lat[5].toFixed(0)} ms, max ${lat[9].toFixed(0)} ms over 10 keys`);

  // Leave the server as found: end the new session too.
  await clickUi('[data-action=menu]');
  await clickUi('[data-action=end]');
  await waitFor('the new session ended', (s) => s.ended);
} catch (err) {
  failed = true;
  console.error(`not ok - ${err.message}`);
  const shot = await page('Page.captureScreenshot', { format: 'png' }).catch(() => null);
  if (shot) {
    const file = path.join(os.tmpdir(), 'isolator-smoke-failure.png');
    fs.writeFileSync(file, Buffer.from(shot.data, 'base64'));
    console.error(`screenshot: ${file}`);
  }
} finally {
  const exited = new Promise((r) => browser.once('exit', r));
  cdp('Browser.close').catch(() => {});
  await Promise.race([exited, sleep(5000)]);
  if (browser.exitCode === null) browser.kill();
  site.close();
  try {
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  } catch (err) {
    console.error(`could not remove the client profile ${profile}: ${err.message}`);
  }
}
process.exit(failed ? 1 : 0);

function document_title_ok(title, s) {
  return title === (s.title.trim() || s.url || 'isolator');
}

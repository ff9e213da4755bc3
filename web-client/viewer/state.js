// Observable viewer state, mirrored for end-to-end tests.
//
// One plain object holds everything the UI shows. `update()` merges a patch,
// reflects the coarse parts onto `document.body` as `data-*` attributes (so a
// test, or CSS, can wait on `[data-connection="connected"]`) and notifies
// subscribers. The same object is exposed as `window.__isolator.state`; it is
// mutated in place so a reference taken once stays current.

/** @typedef {{id: number, url: string, title: string}} Tab */
/** @typedef {{level: string, code: string, message: string, at: number}} Notice */

const MAX_NOTICES = 50;

export const state = {
  /** "connecting" | "connected" | "reconnecting" | "ended" | "error" */
  connection: 'connecting',
  connected: false,
  sessionId: null,
  user: null,
  url: '',
  title: '',
  loading: false,
  canBack: false,
  canForward: false,
  /** @type {Tab[]} */
  tabs: [],
  activeTab: null,
  framesDrawn: 0,
  /** Binary messages received (drawn, dropped or undecodable). */
  framesReceived: 0,
  lastFrameSeq: null,
  /** The tab the last drawn frame belongs to. */
  lastFrameTab: null,
  /** The last drawn frame's picture size in device pixels: `[width, height]`. */
  lastFramePixels: null,
  decodeErrors: 0,
  /** Mean time to decode and draw a frame (ms, exponentially weighted). */
  frameMs: 0,
  cursor: 'default',
  /** @type {Notice[]} */
  notices: [],
  /** @type {null | {id: number, kind: string, message: string}} */
  dialog: null,
  /** @type {null | {reason: string, message: string}} */
  ended: null,
  /** @type {null | {code: string, message: string}} */
  lastError: null,
};

const listeners = new Set();

/** Calls `fn(state, patch)` after every update; returns an unsubscribe function. */
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Merges `patch` into the state, reflects it on `<body>` and notifies subscribers. */
export function update(patch) {
  Object.assign(state, patch);
  if ('connection' in patch) state.connected = state.connection === 'connected';
  reflect();
  for (const fn of listeners) {
    try {
      fn(state, patch);
    } catch (err) {
      console.error('isolator: state listener failed', err);
    }
  }
}

/** Records a notice (newest last, bounded). */
export function pushNotice(level, code, message) {
  const notice = { level, code, message, at: Date.now() };
  state.notices.push(notice);
  if (state.notices.length > MAX_NOTICES) state.notices.splice(0, state.notices.length - MAX_NOTICES);
  reflect();
  return notice;
}

/** Counts a drawn frame; kept out of `update()` because it runs per frame. */
export function frameDrawn(seq, tab, ms, pixels) {
  // Exponentially weighted mean of decode + draw time, in ms.
  state.frameMs = state.framesDrawn === 0 ? ms : state.frameMs * 0.9 + ms * 0.1;
  state.framesDrawn += 1;
  state.lastFrameSeq = seq;
  state.lastFrameTab = tab;
  state.lastFramePixels = pixels;
  if (state.framesDrawn === 1) reflect();
}

function reflect() {
  const b = document.body;
  if (!b) return;
  const d = b.dataset;
  d.connection = state.connection;
  d.loading = String(state.loading);
  d.tabs = String(state.tabs.length);
  d.hasFrame = String(state.framesDrawn > 0);
  d.dialog = state.dialog ? state.dialog.kind : 'none';
  d.ended = state.ended ? state.ended.reason : '';
  d.notices = String(state.notices.length);
}

window.__isolator = Object.freeze({ state, protocol: 1 });
reflect();

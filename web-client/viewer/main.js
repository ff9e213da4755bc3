// The viewer: wires HTTP session start, the session socket, the canvas, input,
// and the browser chrome together. Every module below is independent of the
// others; this file is the only place that knows them all.
//
// Lifecycle: (1) re-attach to the session remembered by this tab, or create
// one with `POST /api/sessions`; (2) attach the WebSocket; (3) on drops,
// re-attach with backoff behind a "Reconnecting" overlay; (4) on `ended`,
// forget the session and explain why, offering a new one.

import { state, update, subscribe, frameDrawn } from './state.js';
import {
  ApiError,
  createSession,
  deleteSession,
  forgetSession,
  holdSession,
  isHeldElsewhere,
  loadStoredSession,
  redirectToLogin,
  storeSession,
  viewportSize,
} from './session.js';
import { Connection } from './connection.js';
import { FrameRenderer } from './frames.js';
import { InputController } from './input.js';
import { BrowserChrome } from './chrome.js';
import { PageDialogs } from './dialogs.js';
import { Notices } from './notices.js';
import { Overlay } from './overlay.js';
import { FileTransfers } from './files.js';
import { ImagePaste } from './paste_image.js';
import { installCopyGuard } from './copy_guard.js';

const RESIZE_DEBOUNCE_MS = 150;
/** How long "End session" waits for the server's `ended` before closing over HTTP. */
const CLOSE_TIMEOUT_MS = 3000;
const CURSOR_RE = /^[a-z][a-z-]{0,31}$/;

const ENDED_TEXT = {
  closed: ['Session ended', 'You ended this session. The remote browser and everything in it are gone.'],
  idle: ['Session ended after inactivity', 'The remote browser was closed because it was not used for a while.'],
  browser_crashed: ['The remote browser stopped', 'The remote browser stopped. Your session could not be kept.'],
  replaced: ['Session opened elsewhere', 'This session was opened in another window.'],
  terminated: ['Session ended by an administrator', 'An administrator ended this session.'],
  shutdown: ['The service is restarting', 'The isolator server shut down. Start a new session in a moment.'],
  drained: ['Server taken out of service', 'This server was taken out of service for maintenance. Start a new session: it opens on another server.'],
  node_lost: ['The server holding this session stopped', 'The server running your remote browser stopped, so this session could not be kept. Start a new session: it opens on another server.'],
  error: ['Session ended', 'The session stopped because of an error on the server.'],
  gone: ['Session expired', 'This session no longer exists on the server.'],
};

class Viewer {
  constructor() {
    const $ = (id) => document.getElementById(id);
    this.viewport = $('viewport');
    this.canvas = $('screen');
    this.session = null;
    this.conn = null;
    this.pendingNavigate = '';
    this.closeTimer = 0;
    this.closeRequested = false;
    this.creating = false;
    this.resizeTimer = 0;
    this.sentSize = null;
    this.size = this.measure();

    this.notices = new Notices($('toasts'));
    this.overlay = new Overlay($('overlay'));
    this.renderer = new FrameRenderer(this.canvas, {
      ack: (seq) => this.conn?.send({ t: 'frame_ack', seq }),
      drawn: (h, ms, pixels) => frameDrawn(h.seq, h.tab, ms, pixels),
      decodeFailed: (h, err) => {
        state.decodeErrors += 1;
        console.warn(`isolator: frame ${h.seq} could not be decoded: ${err.message}`);
      },
    });
    this.renderer.setViewport(this.size.width, this.size.height, this.size.dpr);

    const send = (msg) => this.send(msg);
    this.commands = {
      back: () => send({ t: 'back' }),
      forward: () => send({ t: 'forward' }),
      reload: () => send({ t: 'reload' }),
      stop: () => send({ t: 'stop' }),
      // Typed while (re)connecting: go there as soon as the session is attached.
      navigate: (url) => send({ t: 'navigate', url }) || (this.pendingNavigate = url),
      switchTab: (id) => send({ t: 'tab', action: 'switch', id }),
      closeTab: (id) => send({ t: 'tab', action: 'close', id }),
      endSession: () => this.endSession(),
      signOut: () => this.signOut(),
      focusViewer: () => this.input.focus(),
      focusAddress: () => this.chrome.focusAddress(),
    };
    this.input = new InputController({
      canvas: this.canvas,
      sink: $('keyboard'),
      send,
      sendDroppable: (msg) => this.conn?.sendDroppable(msg) ?? false,
      commands: this.commands,
      notify: (level, code, message) => this.notices.show(level, code, message),
      pasteImages: (files) => this.imagePaste.pasteAll(files),
    });
    this.imagePaste = new ImagePaste({
      session: () => this.session,
      notify: (level, code, message) => this.notices.show(level, code, message),
    });
    this.chrome = new BrowserChrome(this.commands);
    installCopyGuard(document, send);
    this.dialogs = new PageDialogs(
      $('page-dialog'),
      ({ id, accept, text }) => {
        send({ t: 'dialog', id, accept, text });
        this.input.focus();
      },
      (d) => update({ dialog: d ? { id: d.id, kind: d.kind, message: d.message } : null }),
      () => state.url,
    );
    this.files = new FileTransfers({
      viewport: this.viewport, toolbar: document.querySelector('.toolbar'), session: () => this.session, send,
      notify: (level, code, message) => this.notices.show(level, code, message), done: () => this.input.focus(),
    });
    subscribe((s) => this.chrome.render(s));
    this.chrome.render(state);

    new ResizeObserver(() => this.onResize()).observe(this.viewport);
    window.addEventListener('resize', () => this.onResize());
    // A click anywhere on the picture area (outside overlays) gives the keyboard back to the page.
    this.viewport.addEventListener('mousedown', (e) => {
      if (e.target === this.viewport) this.input.focus();
    });
  }

  /** Starts: re-attach to this tab's session, or create one. */
  async start() {
    this.loadUser();
    const params = new URLSearchParams(location.search);
    const startUrl = (params.get('url') || '').trim();
    let stored = loadStoredSession();
    if (stored && (await isHeldElsewhere(stored.id))) {
      // This tab is a duplicate of one still showing that session: get a session of its own.
      forgetSession();
      stored = null;
    }
    if (stored) {
      this.attach(stored, startUrl);
    } else {
      await this.create(startUrl);
    }
  }

  async loadUser() {
    try {
      const res = await fetch('/api/me', { credentials: 'same-origin', cache: 'no-store' });
      if (res.ok) {
        const me = await res.json();
        update({ user: typeof me.user === 'string' ? me.user : null });
        this.chrome.setUser(me);
      }
    } catch {
      // The menu just lacks the user line.
    }
  }

  measure() {
    const r = this.viewport.getBoundingClientRect();
    return viewportSize(r.width, r.height, window.devicePixelRatio || 1);
  }

  onResize() {
    const size = this.measure();
    const exact = this.viewport.getBoundingClientRect();
    // Redraw at once (keeps the picture sharp and aligned); tell the server after the user stops dragging.
    this.renderer.setViewport(Math.round(exact.width), Math.round(exact.height), size.dpr);
    this.size = size;
    clearTimeout(this.resizeTimer);
    this.resizeTimer = setTimeout(() => this.sendResize(), RESIZE_DEBOUNCE_MS);
  }

  sendResize() {
    const s = this.size;
    const last = this.sentSize;
    if (last && last.width === s.width && last.height === s.height && last.dpr === s.dpr) return;
    if (this.send({ t: 'resize', width: s.width, height: s.height, dpr: s.dpr })) this.sentSize = { ...s };
  }

  send(msg) {
    return this.conn ? this.conn.send(msg) : false;
  }

  /** Creates a new session, starting at `url` when given (once at a time). */
  async create(url) {
    if (this.creating) return;
    this.creating = true;
    try {
      await this.createNow(url);
    } finally {
      this.creating = false;
    }
  }

  async createNow(url) {
    this.resetPage();
    update({ connection: 'connecting', ended: null, lastError: null });
    this.overlay.show({ kind: 'starting', title: 'Starting a secure browser\u2026', spinner: true });
    this.size = this.measure();
    let session;
    try {
      session = await createSession({ url, ...this.size });
    } catch (err) {
      this.createFailed(err, url);
      return;
    }
    storeSession(session);
    if (new URLSearchParams(location.search).has('url')) {
      // A reload of this tab re-attaches instead of starting over at the old address.
      history.replaceState(null, '', location.pathname);
    }
    this.sentSize = { ...this.size };
    this.attach(session, '');
  }

  createFailed(err, url) {
    const retry = { label: 'Try again', action: 'retry', primary: true, onClick: () => this.create(url) };
    if (err instanceof ApiError) {
      update({ connection: 'error', lastError: { code: err.code, message: err.message } });
      if (err.status === 401) {
        redirectToLogin();
        return;
      }
      if (err.code === 'user_full') {
        this.overlay.show({
          kind: 'full',
          title: 'Too many sessions open',
          message: err.message || 'You have as many sessions open as one user may. Close one and try again.',
          actions: [retry],
        });
        return;
      }
      if (err.code === 'full' || err.status === 503) {
        this.overlay.show({
          kind: 'full',
          title: 'No free session',
          message: err.message || 'All sessions are in use. Try again in a minute.',
          actions: [retry],
        });
        return;
      }
      if (err.code === 'bad_url') {
        this.overlay.show({
          kind: 'bad_url',
          title: 'This address cannot be opened',
          message: err.message,
          detail: url,
          actions: [
            {
              label: 'Open the start page instead',
              action: 'start-page',
              primary: true,
              onClick: () => {
                history.replaceState(null, '', location.pathname);
                this.create('');
              },
            },
          ],
        });
        return;
      }
      this.overlay.show({ kind: 'error', title: 'Could not start a session', message: err.message, actions: [retry] });
      return;
    }
    update({ connection: 'error', lastError: { code: 'network', message: String(err.message || err) } });
    this.overlay.show({
      kind: 'error',
      title: 'The isolator server cannot be reached',
      message: 'Check your network connection, then try again.',
      detail: String(err.message || err),
      actions: [retry],
    });
  }

  /** Attaches the socket of `session`; navigates to `navigateTo` once attached. */
  attach(session, navigateTo) {
    this.conn?.stop();
    this.session = session;
    this.pendingNavigate = navigateTo;
    holdSession(session.id);
    update({ sessionId: session.id, ended: null });
    this.conn = new Connection(session, {
      onFrame: (buf) => {
        state.framesReceived += 1;
        this.renderer.push(buf);
      },
      onMessage: (msg) => this.onMessage(msg),
      onStatus: (status, detail) => this.onStatus(status, detail),
      onGone: (why) => this.onGone(why),
      onLoginRequired: () => {
        forgetSession();
        redirectToLogin();
      },
    });
    this.conn.start();
  }

  onStatus(status, detail) {
    if (status === 'connecting') {
      update({ connection: 'connecting' });
      this.input.setEnabled(false);
      if (this.overlay.kind !== 'starting') {
        this.overlay.show({ kind: 'starting', title: 'Connecting to the remote browser\u2026', spinner: true });
      }
    } else if (status === 'connected') {
      update({ connection: 'connected' });
      this.overlay.hide();
      this.input.setEnabled(true);
      this.sentSize = null;
      this.size = this.measure();
      this.sendResize();
      if (this.pendingNavigate) {
        this.send({ t: 'navigate', url: this.pendingNavigate });
        this.pendingNavigate = '';
        history.replaceState(null, '', location.pathname);
      }
      if (!this.dialogs.current && !document.activeElement?.closest?.('header, dialog')) this.input.focus();
    } else if (status === 'reconnecting') {
      if (this.closeRequested) {
        // The user ended the session and the socket closed: that is the answer, do not come back.
        this.closeViaHttp();
        return;
      }
      update({ connection: 'reconnecting' });
      this.input.setEnabled(false);
      const wait = detail.probing ? 'Checking the server\u2026' : `Next try in ${Math.max(1, Math.round(detail.delayMs / 1000))} s.`;
      this.overlay.show({
        kind: 'reconnecting',
        title: 'Reconnecting\u2026',
        message: 'The connection to the remote browser dropped. Your session is kept for a short while.',
        detail: `Attempt ${detail.attempt}. ${wait}`,
        spinner: true,
        dim: true,
        actions: [
          { label: 'Retry now', action: 'retry-now', primary: true, onClick: () => this.conn?.retryNow() },
          { label: 'End session', action: 'end-session', onClick: () => this.endSession() },
        ],
      });
    }
  }

  onGone(why) {
    if (!this.conn?.everReady && state.framesDrawn === 0 && state.connection !== 'connected') {
      // A stale session from an earlier visit of this tab: start a fresh one without fuss.
      forgetSession();
      const pending = this.pendingNavigate;
      this.conn = null;
      this.create(pending);
      return;
    }
    this.showEnded('gone', why);
  }

  onMessage(m) {
    switch (m.t) {
      case 'ready':
        update({ sessionId: typeof m.session === 'string' ? m.session : this.session.id, user: m.user ?? state.user });
        break;
      case 'state':
        update({
          url: str(m.url),
          title: str(m.title),
          loading: !!m.loading,
          canBack: !!m.can_back,
          canForward: !!m.can_forward,
          activeTab: typeof m.tab === 'number' ? m.tab : state.activeTab,
        });
        this.renderer.showTab(state.activeTab);
        break;
      case 'tabs':
        update({
          tabs: Array.isArray(m.tabs)
            ? m.tabs.filter((t) => t && typeof t.id === 'number').map((t) => ({ id: t.id, url: str(t.url), title: str(t.title) }))
            : [],
          activeTab: typeof m.active === 'number' ? m.active : state.activeTab,
        });
        this.renderer.showTab(state.activeTab);
        break;
      case 'cursor': {
        const cursor = typeof m.cursor === 'string' && CURSOR_RE.test(m.cursor) ? m.cursor : 'default';
        this.canvas.style.cursor = cursor;
        update({ cursor });
        break;
      }
      case 'dialog':
        this.dialogs.open(m);
        break;
      case 'dialog_closed':
        this.dialogs.closed(m.id);
        break;
      case 'notice':
        this.notices.show(str(m.level) || 'info', str(m.code), str(m.message));
        break;
      case 'error':
        update({ lastError: { code: str(m.code), message: str(m.message) } });
        console.warn(`isolator: server refused a message (${m.code}): ${m.message}`);
        this.notices.show('warn', `error:${str(m.code)}`, `The server refused an action: ${str(m.message) || str(m.code)}`);
        break;
      case 'ended':
        this.showEnded(str(m.reason) || 'error', str(m.message));
        break;
      case 'copy':
        this.copyToClipboard(str(m.text));
        break;
      case 'pong':
        break;
      case 'file_chooser':
        this.files.open(m);
        break;
      case 'download':
        this.files.offer(m);
        break;
      default:
        console.debug(`isolator: ignoring unknown server message type "${m.t}"`);
    }
  }

  async copyToClipboard(text) {
    if (!text) return;
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      this.notices.show('warn', 'copy_denied', 'The page copied text, but this browser did not allow writing it to your clipboard.');
    }
  }

  showEnded(reason, message) {
    clearTimeout(this.closeTimer);
    this.closeRequested = false;
    this.conn?.stop();
    const session = this.session;
    forgetSession();
    holdSession(null);
    this.input.setEnabled(false);
    this.dialogs.reset();
    this.canvas.style.cursor = 'default';
    const [title, text] = ENDED_TEXT[reason] || ENDED_TEXT.error;
    update({ connection: 'ended', ended: { reason, message: text, serverMessage: message }, loading: false });
    const actions = [];
    if (reason === 'replaced' && session) {
      actions.push({
        label: 'Use it here',
        action: 'use-here',
        primary: true,
        onClick: () => {
          storeSession(session);
          this.attach(session, '');
        },
      });
    }
    actions.push({ label: 'Start a new session', action: 'new-session', primary: actions.length === 0, onClick: () => this.create('') });
    this.overlay.show({
      kind: 'ended',
      title,
      message: text,
      detail: message && message !== text ? message : '',
      actions,
    });
  }

  /** Ends the session: over the socket when it is up, else (or if no answer comes) over HTTP. */
  endSession() {
    if (!this.session || state.connection === 'ended') return;
    this.closeRequested = true;
    if (this.send({ t: 'close' })) {
      this.closeTimer = setTimeout(() => this.closeViaHttp(), CLOSE_TIMEOUT_MS);
    } else {
      this.closeViaHttp();
    }
  }

  closeViaHttp() {
    const session = this.session;
    this.conn?.stop();
    if (session) deleteSession(session).catch((err) => console.warn('isolator: closing the session over HTTP failed', err));
    if (state.connection !== 'ended') this.showEnded('closed', '');
  }

  async signOut() {
    const session = this.session;
    this.send({ t: 'close' });
    if (session) await deleteSession(session, { keepalive: true }).catch(() => {});
    forgetSession();
    try {
      await fetch('/logout', { method: 'POST', credentials: 'same-origin', headers: { 'X-Isolator-Request': '1' } });
    } finally {
      location.assign('/login');
    }
  }

  /** Clears the page-level state before a new session. */
  resetPage() {
    this.conn?.stop();
    this.conn = null;
    this.session = null;
    this.renderer.reset();
    this.dialogs.reset();
    this.notices.clear();
    this.canvas.style.cursor = 'default';
    state.framesDrawn = 0;
    state.framesReceived = 0;
    state.lastFrameSeq = null;
    update({
      sessionId: null,
      url: '',
      title: '',
      loading: false,
      canBack: false,
      canForward: false,
      tabs: [],
      activeTab: null,
      cursor: 'default',
      dialog: null,
    });
  }
}

function str(v) {
  return typeof v === 'string' ? v : '';
}

const viewer = new Viewer();
// Test hook: drops the socket as a network failure would (the viewer then re-attaches).
window.__isolator = Object.freeze({
  ...window.__isolator,
  dropConnection: () => viewer.conn?.ws?.close(4001, 'dropped by test hook'),
});
viewer.start();

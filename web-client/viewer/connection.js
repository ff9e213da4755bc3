// The session WebSocket: attach, keep alive, re-attach after drops.
//
// A browser cannot see why a WebSocket upgrade failed (401, 403 and "server
// down" all look like close code 1006), so after a failed attempt the
// connection asks the server over HTTP: a 401 from `/api/me` means the login
// expired; a healthy server that refuses the upgrade twice in a row means the
// session is gone (token unknown, grace period over); anything else is a
// network problem and is retried with exponential backoff and jitter, forever,
// while the UI shows "Reconnecting".
//
// Input sent while the socket is down is dropped on purpose: replaying stale
// keystrokes into a page the user cannot see would be worse than losing them.

import { probeServer, wsUrl } from './session.js';

const PING_EVERY_MS = 20_000;
/** No inbound message (frames and pongs count) for this long: the socket is dead. */
const SILENCE_LIMIT_MS = 50_000;
const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000];
const BACKOFF_MAX_MS = 10_000;
/** Consecutive upgrades refused by a healthy server before the session counts as gone. */
const REFUSALS_BEFORE_GONE = 2;
/** Above this many buffered bytes, droppable messages (pointer moves) are skipped. */
const BACKPRESSURE_BYTES = 256 * 1024;

/**
 * Handlers:
 * - `onFrame(ArrayBuffer)` for binary messages,
 * - `onMessage(object)` for JSON messages (already parsed, with a string `t`),
 * - `onStatus(status, detail)` with status `connecting` | `connected` | `reconnecting`,
 * - `onGone(why)` when the server refuses this session for good,
 * - `onLoginRequired()` when the login expired.
 */
export class Connection {
  constructor(session, handlers) {
    this.session = session;
    this.h = handlers;
    this.ws = null;
    this.stopped = false;
    this.attempt = 0;
    this.refusals = 0;
    this.everReady = false;
    this.retryTimer = 0;
    this.pingTimer = 0;
    this.pingId = 0;
    this.lastInbound = 0;
    this.onOnline = () => {
      if (this.retryTimer) this.retryNow();
    };
    window.addEventListener('online', this.onOnline);
  }

  /** Opens the socket (first attach). */
  start() {
    this.h.onStatus('connecting', {});
    this.open();
  }

  /** Skips the backoff wait and tries to re-attach immediately. */
  retryNow() {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = 0;
    this.open();
  }

  /** Whether a message sent now would go out. */
  get isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends one JSON message; returns false when the socket is not open. */
  send(msg) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  /** Like `send`, but skipped under backpressure (for coalescable input such as pointer moves). */
  sendDroppable(msg) {
    if (!this.isOpen || this.ws.bufferedAmount > BACKPRESSURE_BYTES) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  /** Stops for good: closes the socket and cancels every timer. */
  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    window.removeEventListener('online', this.onOnline);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      detach(ws);
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000, 'client done');
    }
  }

  open() {
    if (this.stopped) return;
    if (this.ws) {
      detach(this.ws);
      this.ws.close();
    }
    let ws;
    try {
      ws = new WebSocket(wsUrl(this.session.ws), ['isolator.v1', `isolator.token.${this.session.token}`]);
    } catch (err) {
      // Only a malformed URL throws here; retrying cannot help.
      this.h.onGone(`Cannot open the session socket: ${err.message}`);
      this.stop();
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.lastInbound = Date.now();
      this.startPing();
    };
    ws.onmessage = (ev) => this.receive(ev.data);
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.pingTimer);
      this.closed(opened, ev);
    };
    // `error` is always followed by `close`, which does the work.
    ws.onerror = () => {};
  }

  receive(data) {
    this.lastInbound = Date.now();
    if (typeof data !== 'string') {
      this.h.onFrame(data);
      return;
    }
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      console.warn('isolator: server sent a text message that is not JSON', data.slice(0, 200));
      return;
    }
    if (!msg || typeof msg.t !== 'string') {
      console.warn('isolator: server sent a message without a type', msg);
      return;
    }
    if (msg.t === 'ready') {
      this.attempt = 0;
      this.refusals = 0;
      this.everReady = true;
      this.h.onStatus('connected', { resumed: !!msg.resumed });
    } else if (msg.t === 'ended') {
      // The server closes the socket next; do not try to come back.
      this.stopped = true;
      clearTimeout(this.retryTimer);
    }
    this.h.onMessage(msg);
  }

  async closed(opened, ev) {
    if (this.stopped) return;
    // Codes 1008 (policy) and 4400-4499 are the server saying no, not the network failing.
    if (opened && (ev.code === 1008 || (ev.code >= 4400 && ev.code < 4500))) {
      this.h.onGone(ev.reason || 'The server refused this session.');
      this.stop();
      return;
    }
    this.h.onStatus('reconnecting', { attempt: this.attempt + 1, delayMs: 0, probing: true });
    if (!opened) {
      const probe = await probeServer();
      if (this.stopped) return;
      if (probe === 'login') {
        this.stop();
        this.h.onLoginRequired();
        return;
      }
      if (probe === 'ok') {
        this.refusals += 1;
        if (this.refusals >= REFUSALS_BEFORE_GONE) {
          this.h.onGone(
            this.everReady
              ? 'The session could not be re-attached; it may have expired while the connection was down.'
              : 'The saved session no longer exists.',
          );
          this.stop();
          return;
        }
      } else {
        this.refusals = 0;
      }
    }
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    const capped = this.attempt >= BACKOFF_MS.length ? BACKOFF_MAX_MS : base;
    const delayMs = Math.round(capped * (0.8 + Math.random() * 0.4));
    this.attempt += 1;
    this.h.onStatus('reconnecting', { attempt: this.attempt, delayMs, probing: false });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = 0;
      this.open();
    }, delayMs);
  }

  startPing() {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (!this.isOpen) return;
      if (Date.now() - this.lastInbound > SILENCE_LIMIT_MS) {
        // Half-open TCP connection: nothing will ever arrive. Close and re-attach.
        const ws = this.ws;
        this.ws = null;
        detach(ws);
        ws.close(4000, 'keep-alive timeout');
        clearInterval(this.pingTimer);
        this.closed(true, { code: 4000, reason: '' });
        return;
      }
      this.pingId += 1;
      this.send({ t: 'ping', id: this.pingId });
    }, PING_EVERY_MS);
  }
}

function detach(ws) {
  ws.onopen = null;
  ws.onmessage = null;
  ws.onclose = null;
  ws.onerror = null;
}

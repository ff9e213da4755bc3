// Session bootstrap over HTTP: create, remember, close.
//
// `{id, token, ws}` lives in `sessionStorage`, which is per browser tab: a
// reload of the tab re-attaches to the same remote browser, while a second tab
// gets its own session. Nothing is kept in `localStorage` or cookies; the
// token only ever travels in the WebSocket sub-protocol list and the
// `X-Isolator-Token` header of the close request.

const STORAGE_KEY = 'isolator.session.v1';

/** An HTTP API failure: `status` is the HTTP status, `code` the server's error code. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** The session remembered by this tab, or null. */
export function loadStoredSession() {
  let raw;
  try {
    raw = sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
  if (!raw) return null;
  try {
    const s = JSON.parse(raw);
    if (s && typeof s.id === 'string' && typeof s.token === 'string' && typeof s.ws === 'string') return s;
  } catch {
    // Corrupt entry: forget it below.
  }
  forgetSession();
  return null;
}

/** Remembers `session` for reloads of this tab. */
export function storeSession(session) {
  try {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ id: session.id, token: session.token, ws: session.ws }));
  } catch {
    // Storage disabled (private mode quotas...): reloads start a new session, nothing else breaks.
  }
}

/** Forgets the remembered session. */
export function forgetSession() {
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Nothing to forget.
  }
}

/** Clamps a viewport to the ranges the protocol accepts. */
export function viewportSize(width, height, dpr) {
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  return {
    width: clamp(Math.round(width), 100, 4096),
    height: clamp(Math.round(height), 100, 4096),
    dpr: clamp(Math.round((dpr || 1) * 100) / 100, 0.5, 4),
  };
}

async function readError(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    // Not JSON (a proxy's HTML page...): fall back to the status line.
  }
  const code = body && typeof body.code === 'string' ? body.code : `http_${res.status}`;
  const message =
    body && typeof body.error === 'string' && body.error
      ? body.error
      : `The server answered ${res.status} ${res.statusText || ''}`.trim();
  return new ApiError(res.status, code, message);
}

/**
 * Starts a session: `POST /api/sessions`. Resolves to `{id, token, ws, user}`;
 * rejects with `ApiError` (HTTP status + server code) or a `TypeError` when
 * the server cannot be reached.
 */
export async function createSession({ url, width, height, dpr }) {
  const body = viewportSize(width, height, dpr);
  if (url) body.url = url;
  const res = await fetch('/api/sessions', {
    method: 'POST',
    credentials: 'same-origin',
    cache: 'no-store',
    headers: { 'Content-Type': 'application/json', 'X-Isolator-Request': '1' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201 && res.status !== 200) throw await readError(res);
  let data;
  try {
    data = await res.json();
  } catch {
    throw new ApiError(res.status, 'bad_response', 'The server answered the session request with invalid JSON.');
  }
  if (!data || typeof data.id !== 'string' || typeof data.token !== 'string') {
    throw new ApiError(res.status, 'bad_response', 'The server answered the session request without an id and token.');
  }
  if (data.protocol !== undefined && data.protocol !== 1) {
    throw new ApiError(
      res.status,
      'protocol',
      `The server speaks client protocol ${data.protocol}; this page speaks 1. Reload the page to update it.`,
    );
  }
  const ws = typeof data.ws === 'string' && data.ws.startsWith('/') ? data.ws : `/api/sessions/${encodeURIComponent(data.id)}/ws`;
  return { id: data.id, token: data.token, ws, user: typeof data.user === 'string' ? data.user : null };
}

/**
 * Closes a session over HTTP (used when the socket is down). `keepalive` lets
 * the request outlive the page when called while it unloads.
 */
export async function deleteSession(session, { keepalive = false } = {}) {
  const res = await fetch(`/api/sessions/${encodeURIComponent(session.id)}`, {
    method: 'DELETE',
    credentials: 'same-origin',
    keepalive,
    headers: { 'X-Isolator-Request': '1', 'X-Isolator-Token': session.token },
  });
  if (!res.ok && res.status !== 404) throw await readError(res);
}

/**
 * Whether the server is up and this user is still logged in:
 * `"ok"`, `"login"` (401) or `"down"` (unreachable or failing).
 */
export async function probeServer() {
  try {
    const res = await fetch('/api/me', { credentials: 'same-origin', cache: 'no-store' });
    if (res.status === 401) return 'login';
    if (res.ok) return 'ok';
    // A server without /api/me (or behind a proxy that hides it): fall back to the health check.
    const health = await fetch('/healthz', { cache: 'no-store' });
    return health.ok ? 'ok' : 'down';
  } catch {
    return 'down';
  }
}

/** Sends the browser to the login page, coming back here afterwards. */
export function redirectToLogin() {
  const next = location.pathname + location.search;
  location.assign(`/login?next=${encodeURIComponent(next)}`);
}

/** The absolute WebSocket URL for a server-relative path. */
export function wsUrl(path) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${path}`;
}

// "Duplicate tab" copies sessionStorage, so two tabs could fight over one
// session (each attach replaces the other). Tabs of this origin answer on a
// BroadcastChannel for the session they hold; a new page whose remembered
// session is held elsewhere starts its own instead. A reload is not affected:
// the old page is gone before the new one asks.
// The channel is opened on first use, not at import.
let channel;
let heldId = null;

function sessionsChannel() {
  if (channel === undefined) {
    channel = typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel('isolator.sessions');
    if (channel) {
      channel.onmessage = (e) => {
        const m = e.data;
        if (m && m.q === 'held?' && heldId !== null && m.id === heldId) channel.postMessage({ a: 'held', id: heldId });
      };
    }
  }
  return channel;
}

/** Declares the session this page is attached to (null: none). */
export function holdSession(id) {
  heldId = id;
  sessionsChannel();
}

/** Whether another open tab of this origin is attached to session `id` (answers within `waitMs`). */
export function isHeldElsewhere(id, waitMs = 150) {
  const channel = sessionsChannel();
  if (!channel) return Promise.resolve(false);
  return new Promise((resolve) => {
    const listener = (e) => {
      if (e.data && e.data.a === 'held' && e.data.id === id) finish(true);
    };
    const timer = setTimeout(() => finish(false), waitMs);
    function finish(held) {
      clearTimeout(timer);
      channel.removeEventListener('message', listener);
      resolve(held);
    }
    channel.addEventListener('message', listener);
    channel.postMessage({ q: 'held?', id });
  });
}

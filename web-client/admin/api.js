// The admin API client: JSON requests with the CSRF header, the policy
// version every write is based on (If-Match), and one error shape.

/** The policy version the page last read; writes are based on it. */
export const policy = { version: null };

const listeners = new Set();
/** Calls `fn(version)` whenever the known policy version changes. */
export function onVersion(fn) { listeners.add(fn); }

function setVersion(v) {
  if (v == null || v === policy.version) return;
  policy.version = v;
  for (const fn of listeners) fn(v);
}

/** An API error: `status`, `code`, `message`, `field`, `problems`, `currentVersion`. */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `request failed (${status})`);
    this.status = status;
    this.code = (body && body.code) || 'error';
    this.field = (body && body.field) || '';
    this.problems = (body && body.problems) || [];
    this.currentVersion = body && body.current_version;
  }
}

/**
 * Calls the API. `body` is sent as JSON (or as is when it is FormData);
 * `write: true` adds If-Match with the version last read.
 */
export async function api(method, path, { body, write = false } = {}) {
  const headers = { 'X-Isolator-Request': '1', Accept: 'application/json' };
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  if (write && policy.version != null) headers['If-Match'] = `"${policy.version}"`;
  const res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  const etag = res.headers.get('ETag');
  if (etag && res.ok) setVersion(Number(etag.replace(/\W/g, '')));
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch { data = null; }
  if (!res.ok) throw new ApiError(res.status, data);
  if (data && typeof data.version === 'number' && !etag) setVersion(data.version);
  return data;
}

/** Parses "a, b ,c" into ["a", "b", "c"]. */
export function list(text) {
  return String(text || '').split(',').map((s) => s.trim()).filter(Boolean);
}

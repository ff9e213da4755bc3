// Shared helpers of the recordings pages: admin API calls and formatting.

/** GET a JSON API path; throws an Error with the server's message. */
export async function getJSON(path) {
  const res = await fetch(path, { credentials: 'same-origin' });
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) {
    const msg = body && body.error ? body.error : `${res.status} ${res.statusText}`;
    throw new Error(`${path}: ${msg}`);
  }
  return body;
}

/** "m:ss" or "h:mm:ss" of milliseconds. */
export function clock(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const mm = h ? String(m).padStart(2, '0') : String(m);
  return (h ? `${h}:` : '') + `${mm}:${String(sec).padStart(2, '0')}`;
}

/** Local date and time of Unix milliseconds. */
export function when(ms) {
  return ms == null ? '' : new Date(ms).toLocaleString();
}

/** Human size of bytes. */
export function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1 << 20) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1 << 20)).toFixed(1)} MB`;
}

/** One line describing a recorded event (never more than the recording holds). */
export function describe(ev) {
  switch (ev.type) {
    case 'session_start': return `session start: ${ev.user} from ${ev.client_addr}`;
    case 'session_end': return `session end (${ev.reason})`;
    case 'navigation': return `navigate ${ev.url}`;
    case 'title': return `title “${ev.title}”`;
    case 'input': {
      if (ev.kind === 'key') return `key ${ev.key}`;
      if (ev.kind === 'text' || ev.kind === 'paste') {
        return `${ev.kind} ${ev.text != null ? JSON.stringify(ev.text) : `(${ev.text_len} characters)`}`;
      }
      if (ev.kind === 'mouse_click') return `click at ${Math.round(ev.at[0])},${Math.round(ev.at[1])}`;
      return `scroll ${ev.delta ? Math.round(ev.delta[1]) : ''}`;
    }
    case 'decision': {
      const det = ev.detectors && ev.detectors.length ? ` [${ev.detectors.join(', ')}]` : '';
      return `${ev.gate} ${ev.decision}: ${ev.action}${det}`;
    }
    default: return ev.type;
  }
}

/** Whether a decision event is an incident (blocked, audited or detected). */
export function isIncident(ev) {
  return ev.type === 'decision' && (ev.decision !== 'allow' || (ev.detectors || []).length > 0);
}

/** Creates an element with text. */
export function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text != null) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

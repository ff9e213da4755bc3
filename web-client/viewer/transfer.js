// Pure helpers of file transfers (files.js): sizes for people, upload URLs.

/** "2.0 MB" */
export function formatSize(n) {
  if (!Number.isFinite(n) || n < 0) return '';
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MB`;
  if (n >= 1 << 10) return `${(n / 1024).toFixed(1)} KB`;
  return `${n} bytes`;
}

/** The upload URL for a file of chooser `chooser`. */
export function uploadUrl(sessionId, chooser, name) {
  const q = new URLSearchParams({ chooser: String(chooser), name: String(name) });
  return `/api/sessions/${encodeURIComponent(sessionId)}/uploads?${q}`;
}

// Pure helpers of paste (input.js, paste_image.js): which clipboard items are
// images, the image paste URL, and the server's answer. No DOM, no state:
// unit-tested under Node.

/** The most images taken from one paste. */
export const MAX_IMAGES = 4;

/**
 * The image files of a paste's `clipboardData`: image items first (what
 * screenshots and "Copy image" put there), else image files (files copied in
 * a file manager). At most MAX_IMAGES, no duplicates.
 * @param {DataTransfer|null|undefined} data
 * @returns {File[]}
 */
export function clipboardImages(data) {
  if (!data) return [];
  const isImage = (f) => !!f && typeof f.type === 'string' && f.type.toLowerCase().startsWith('image/');
  const out = [];
  for (const item of Array.from(data.items || [])) {
    if (item && item.kind === 'file' && String(item.type || '').toLowerCase().startsWith('image/')) {
      const f = typeof item.getAsFile === 'function' ? item.getAsFile() : null;
      if (isImage(f) && !out.includes(f)) out.push(f);
    }
  }
  if (!out.length) {
    for (const f of Array.from(data.files || [])) if (isImage(f) && !out.includes(f)) out.push(f);
  }
  return out.slice(0, MAX_IMAGES);
}

/** The paste-image URL for session `sessionId`. */
export function pasteImageUrl(sessionId, name) {
  const q = new URLSearchParams({ name: String(name || '') });
  return `/api/sessions/${encodeURIComponent(sessionId)}/paste-image?${q}`;
}

/** `{allowed, message}` from an XHR's status and body text. */
export function pasteAnswer(status, text) {
  let body = null;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  if (status === 200 && body && typeof body === 'object') {
    return { allowed: !!body.allowed, message: String(body.message || '') };
  }
  const why = body && typeof body.error === 'string' ? body.error : `the server answered HTTP ${status}`;
  return { allowed: false, message: `The image was not pasted: ${why}.` };
}

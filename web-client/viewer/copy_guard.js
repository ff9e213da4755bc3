// Copy guard: text the page controls but the client draws as its own DOM
// text (a dialog's message and title, the address bar, tab titles, notices)
// never reaches the user's clipboard by the browser's own copy. A copy or
// cut whose selection lies in such an element (`[data-page-text]`) is
// cancelled and its text sent to the server as `copy_text`; the server's
// copy gate decides, and only text it passes comes back as `copy`, which
// the client writes to the clipboard like a copy made in the page.

/**
 * The selected text an event concerns, when it lies in page-controlled text.
 * @param {Event} e a copy or cut event
 * @returns {string|null}
 */
export function guardedSelection(e) {
  const t = e.target instanceof Element ? e.target : null;
  const field = t && (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement) ? t : null;
  if (field && field.closest('[data-page-text]')) {
    const s = field.selectionStart ?? 0;
    const end = field.selectionEnd ?? 0;
    return field.value.slice(Math.min(s, end), Math.max(s, end));
  }
  const sel = document.getSelection();
  if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
  for (let i = 0; i < sel.rangeCount; i++) {
    const r = sel.getRangeAt(i);
    const inPage = (n) => (n instanceof Element ? n : n.parentElement)?.closest('[data-page-text]');
    if (inPage(r.startContainer) || inPage(r.endContainer) || inPage(r.commonAncestorContainer)) {
      return sel.toString();
    }
  }
  return null;
}

/**
 * Installs the guard on `doc`.
 * @param {Document} doc
 * @param {(msg: object) => boolean} send sends a protocol message
 */
export function installCopyGuard(doc, send) {
  const onCopy = (e) => {
    const text = guardedSelection(e);
    if (text === null) return;
    e.preventDefault();
    e.stopPropagation();
    if (e.type === 'cut') {
      const f = e.target;
      // The user's own editing of the address bar still cuts.
      if (f instanceof HTMLInputElement && !f.readOnly) f.setRangeText('');
    }
    if (text) send({ t: 'copy_text', text });
  };
  doc.addEventListener('copy', onCopy, true);
  doc.addEventListener('cut', onCopy, true);
}

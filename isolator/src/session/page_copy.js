// Runs in the MAIN world of every document of every isolated page, before
// the page's own scripts. Chromium's clipboard is shared by every session of
// the browser, so nothing a page copies may reach it: copy/cut events,
// `navigator.clipboard.write(Text)` and `execCommand('copy')` are captured
// here and their text is handed to the isolator (through a binding this
// script hides from the page), which scans it and only then writes it to the
// user's own clipboard.
(() => {
  const send = globalThis.__isolatorCopy;
  if (typeof send !== "function") return;
  try { delete globalThis.__isolatorCopy; } catch (_) { /* non-configurable */ }
  const MAX = 4 << 20;
  const post = (text, how) => {
    if (typeof text !== "string" || text.length === 0) return;
    try { send(JSON.stringify({ text: text.slice(0, MAX), how })); } catch (_) { /* gone */ }
  };

  const selectionText = () => {
    const el = document.activeElement;
    if (el && (el.tagName === "TEXTAREA" || el.tagName === "INPUT")) {
      try {
        if (el.selectionStart !== null && el.selectionEnd > el.selectionStart) {
          return el.value.slice(el.selectionStart, el.selectionEnd);
        }
      } catch (_) { /* no selection API */ }
    }
    const sel = document.getSelection();
    return sel ? sel.toString() : "";
  };

  // Copy and cut events: what the page puts into the event's DataTransfer is
  // recorded instead of written; the default (copy the selection) is
  // prevented, so Chromium's clipboard receives nothing.
  const setData = DataTransfer.prototype.setData;
  let current = null;
  DataTransfer.prototype.setData = function (type, data) {
    if (current && this === current.dt) {
      const t = String(type).toLowerCase();
      if (t === "text/plain" || t === "text") current.text = String(data);
      else if (current.text === null && t === "text/html") current.html = String(data);
      return undefined;
    }
    return setData.call(this, type, data);
  };
  const onCopy = (e) => {
    if (!e.isTrusted || current) return;
    current = { dt: e.clipboardData, text: null, html: null, sel: selectionText(), type: e.type };
    e.preventDefault();
    const c = current;
    // After every other listener of this event has run.
    setTimeout(() => {
      current = null;
      let text = c.text;
      if (text === null && c.html !== null) {
        const d = document.createElement("div");
        d.innerHTML = c.html;
        text = d.textContent || "";
      }
      if (text === null) text = c.sel;
      post(text, c.type);
      // A cut removes the selection from an editable field, as the default would have.
      if (c.type === "cut" && c.text === null && c.sel) {
        try { document.execCommand("delete"); } catch (_) { /* not editable */ }
      }
    }, 0);
  };
  window.addEventListener("copy", onCopy, true);
  window.addEventListener("cut", onCopy, true);

  // The async clipboard API: same rules as Chromium's (a user gesture is
  // needed), but the text goes to the isolator, never to the shared clipboard.
  const clip = navigator.clipboard;
  if (clip) {
    const denied = () => Promise.reject(new DOMException("Document is not focused or no user activation.", "NotAllowedError"));
    const active = () => !navigator.userActivation || navigator.userActivation.isActive;
    const writeText = function (text) {
      if (!active()) return denied();
      post(String(text), "api");
      return Promise.resolve();
    };
    const write = async function (items) {
      if (!active()) return denied();
      for (const item of items || []) {
        if (item && item.types && item.types.includes("text/plain")) {
          const blob = await item.getType("text/plain");
          post(await blob.text(), "api");
          return;
        }
      }
    };
    try {
      Object.defineProperty(clip, "writeText", { value: writeText, configurable: false, writable: false });
      Object.defineProperty(clip, "write", { value: write, configurable: false, writable: false });
    } catch (_) { /* already locked */ }
  }
})();

// Runs in an isolated world of every document of every isolated page (the
// page's own scripts cannot see or change it). Reports through the
// `__isolatorReport` binding as JSON: {"k": kind, ...}.
(() => {
  if (window.__isolatorInstalled) return;
  window.__isolatorInstalled = true;
  const report = (msg) => {
    try { globalThis.__isolatorReport(JSON.stringify(msg)); } catch (_) { /* binding gone */ }
  };

  // Cursor shape under the pointer (no CDP event reports it).
  let lastCursor = "";
  const editable = (el) =>
    el && (el.isContentEditable ||
      (el.tagName === "INPUT" && !["button", "submit", "reset", "checkbox", "radio", "range", "color", "file", "image"].includes((el.type || "").toLowerCase())) ||
      el.tagName === "TEXTAREA");
  const cursorFor = (el) => {
    if (!(el instanceof Element)) return "default";
    let c = getComputedStyle(el).cursor || "auto";
    if (c.includes(",")) c = c.split(",").pop().trim(); // url(...) fallbacks
    if (c.startsWith("url(")) c = "default";
    if (c === "auto") {
      if (editable(el)) return "text";
      if (el.closest("a[href],button,summary,label[for],select")) return "pointer";
      const t = el.childNodes;
      for (const n of t) if (n.nodeType === 3 && n.textContent.trim()) return "text";
      return "default";
    }
    return c;
  };
  document.addEventListener("mousemove", (e) => {
    const c = cursorFor(e.target);
    if (c !== lastCursor) {
      lastCursor = c;
      report({ k: "cursor", cursor: c });
    }
  }, { capture: true, passive: true });
})();

// The document title, on load and whenever it changes (target info lags and
// names pages by URL until <title> is parsed).
(() => {
  if (window.top !== window) return;
  let last = null;
  const report = () => {
    const t = document.title || "";
    if (t === last) return;
    last = t;
    try { globalThis.__isolatorReport(JSON.stringify({ k: "title", title: t })); } catch (_) { /* gone */ }
  };
  const watch = () => {
    report();
    new MutationObserver(report).observe(document, { subtree: true, childList: true, characterData: true });
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watch, { once: true });
  else watch();
  // Back/forward cache restores keep this script's state: report again.
  window.addEventListener("pageshow", (e) => { if (e.persisted) { last = null; report(); } });
})();

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

// The focused text field: its value and selection, for the keyboard gate
// (the server models the field so that it can refuse the keystroke that
// would complete a sensitive value). Reported on focus changes, after typing
// pauses, and after the caret moves; never on every keystroke.
(() => {
  const base = Math.floor(Math.random() * 1e6) * 1e6;
  let next = 1;
  const ids = new WeakMap();
  const idOf = (el) => {
    let id = ids.get(el);
    if (!id) { id = base + next++; ids.set(el, id); }
    return id;
  };
  const TEXT_TYPES = ["", "text", "search", "email", "url", "tel", "password", "number"];
  const isText = (el) => !!el && (el.isContentEditable || el.tagName === "TEXTAREA" ||
    (el.tagName === "INPUT" && TEXT_TYPES.includes((el.getAttribute("type") || "").toLowerCase())));
  const deepActive = () => {
    let el = document.activeElement;
    while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
    return el;
  };
  const MAX = 1 << 20;
  const stateOf = (el) => {
    if (el.isContentEditable) {
      let root = el;
      while (root.parentElement && root.parentElement.isContentEditable) root = root.parentElement;
      const v = root.textContent || "";
      const sel = (el.getRootNode().getSelection ? el.getRootNode() : document).getSelection();
      let s = v.length, e = v.length;
      if (sel && sel.rangeCount && root.contains(sel.getRangeAt(0).startContainer)) {
        const r = sel.getRangeAt(0);
        const pre = document.createRange();
        pre.selectNodeContents(root);
        pre.setEnd(r.startContainer, r.startOffset);
        s = pre.toString().length;
        e = s + r.toString().length;
      }
      return { v, s, e, m: true };
    }
    const v = el.value || "";
    let s = v.length, e = v.length;
    try {
      if (el.selectionStart !== null) { s = el.selectionStart; e = el.selectionEnd; }
    } catch (_) { /* number and email inputs have no selection API */ }
    return { v, s, e, m: el.tagName === "TEXTAREA" };
  };
  // The short inputs just before and just after this one in its form (the
  // other boxes of a card number, filled in any order), so the keyboard
  // gate judges them together.
  const MAX_NEIGHBOURS = 4;
  const MAX_PIECE = 32;
  const neighboursOf = (el, step) => {
    if (el.tagName !== "INPUT") return "";
    const scope = el.form || (el.parentElement && el.parentElement.parentElement);
    if (!scope) return "";
    const all = el.form ? Array.from(el.form.elements) : Array.from(scope.querySelectorAll("input"));
    const out = [];
    for (let j = all.indexOf(el) + step; j >= 0 && j < all.length && out.length < MAX_NEIGHBOURS; j += step) {
      const o = all[j];
      if (o.tagName !== "INPUT" || !isText(o)) break;
      const v = (o.value || "").trim();
      if (!v || v.length > MAX_PIECE) break;
      if (step < 0) out.unshift(v); else out.push(v);
    }
    return out.join(" ");
  };
  // Code editors (CodeMirror 5, Ace) take keys in a tiny hidden textarea
  // that they empty after each key: the text is in the editor's box. For
  // such a proxy the box's text is reported, with the caret unknown.
  const isProxy = (el) => {
    if (el.isContentEditable) return false;
    // Hidden in itself, or clipped by a tiny wrapper (CodeMirror 5 puts a
    // 1000px-wide textarea in a 3x0 box with overflow hidden).
    for (let n = el, i = 0; n && i < 3; i++, n = n.parentElement) {
      const r = n.getBoundingClientRect();
      if (r.width <= 4 || r.height <= 4 || getComputedStyle(n).opacity === "0") return true;
    }
    return false;
  };
  const boxOf = (el) => {
    let box = el.parentElement;
    for (let i = 0; box && i < 6; i++, box = box.parentElement) {
      const r = box.getBoundingClientRect();
      if (r.width >= 40 && r.height >= 16) return box;
    }
    return null;
  };
  // Trusted key-downs this document has seen, and a random id for it: the
  // server drops a report made before keys it has since sent (a report
  // that is late, as from a page that keeps its renderer busy, must not
  // take the field back to an older value).
  const doc = Math.floor(Math.random() * 2 ** 52);
  let keys = 0;
  document.addEventListener("keydown", (e) => { if (e.isTrusted) keys++; }, true);
  let timer = 0;
  const send = () => {
    timer = 0;
    const el = deepActive();
    // Focus inside an iframe: that frame's own script reports.
    if (el && (el.tagName === "IFRAME" || el.tagName === "FRAME")) return;
    let msg = { k: "field", f: 0, n: keys, d: doc };
    if (isText(el)) {
      const box = isProxy(el) ? boxOf(el) : null;
      if (box) {
        const v = (box.innerText || "").slice(0, MAX);
        msg = { k: "field", f: idOf(el), v, s: v.length, e: v.length, m: true, u: true, n: keys, d: doc };
      } else {
        const st = stateOf(el);
        msg = { k: "field", f: idOf(el), v: st.v.slice(0, MAX), s: st.s, e: st.e, m: st.m, p: neighboursOf(el, -1), a: neighboursOf(el, 1), n: keys, d: doc };
      }
    }
    try { globalThis.__isolatorReport(JSON.stringify(msg)); } catch (_) { /* gone */ }
  };
  const soon = (ms) => { clearTimeout(timer); timer = setTimeout(send, ms); };
  document.addEventListener("focusin", () => soon(0), true);
  document.addEventListener("focusout", () => soon(0), true);
  document.addEventListener("input", () => soon(150), true);
  document.addEventListener("keyup", (e) => { if (e.key.length !== 1) soon(60); }, true);
  document.addEventListener("mouseup", () => soon(30), true);
  document.addEventListener("select", () => soon(30), true);
})();

// Signs that what the page shows may change without the user touching it:
// DOM changes, CSS animations and transitions, media, scrolling, images and
// frames loading, and canvas drawing (told by the page-content gate's
// main-world hooks with a `__isolator_drawn` event). The server rests the
// screencast of a page that stayed still; any of these wakes it. At most
// one report a second: while the cast runs the server ignores them.
(() => {
  let last = -1e9;
  const changed = () => {
    const now = performance.now();
    if (now - last < 1000) return;
    last = now;
    try { globalThis.__isolatorReport('{"k":"changed"}'); } catch (_) { /* gone */ }
  };
  const watch = () => {
    new MutationObserver(changed).observe(document, {
      subtree: true, childList: true, characterData: true, attributes: true,
    });
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watch, { once: true });
  else watch();
  for (const type of ["animationstart", "animationiteration", "transitionrun", "play", "playing",
    "seeked", "timeupdate", "load", "scroll", "__isolator_drawn"]) {
    document.addEventListener(type, changed, { capture: true, passive: true });
  }
  window.addEventListener("resize", changed, { passive: true });
})();

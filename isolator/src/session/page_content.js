// Page-content gate, page side. Runs at document start in the isolated world
// of every document of every isolated page (the page cannot see or change it).
//
// 1. Masks at once: text nodes are checked as they are added or changed
//    (MutationObserver callbacks run before the next paint), and likely
//    values of the masked detectors are replaced by bullets, keeping
//    separators, so the value never reaches the screen.
// 2. Reports the page's ORIGINAL text (the values it masked included) to the
//    server through the `__isolatorPage` binding after load and after
//    significant changes (debounced), for the authoritative scan.
// 3. The server answers through `__isolatorPageMask({detectors, values})`:
//    the detectors this page's rule masks (masks of others are undone) and
//    the exact values its engine found, which are masked wherever they occur.
//
// The server prepends `const __ISOLATOR_PAGE = {patterns: {detector: source}}`.
(() => {
  if (window.__isolatorPageInstalled) return;
  window.__isolatorPageInstalled = true;
  const config = typeof __ISOLATOR_PAGE === "object" ? __ISOLATOR_PAGE : { patterns: {} };
  const MAX_TEXT = 4 << 20;
  const SKIP = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEXTAREA", "TEMPLATE"]);

  const compile = (names) => {
    const out = [];
    for (const name of names) {
      const src = config.patterns[name];
      if (src) out.push({ name, re: new RegExp(src, "g") });
    }
    return out;
  };
  // Until the server has spoken, every detector some rule masks is hidden.
  let patterns = compile(Object.keys(config.patterns));
  let values = [];
  const originals = new Map(); // masked text node -> [its original text, the text we set]
  // The node's real text: what we hid, unless the page has changed it since.
  const originalOf = (node) => {
    const o = originals.get(node);
    return o && node.data === o[1] ? o[0] : node.data;
  };

  const luhn = (digits) => {
    let sum = 0;
    for (let i = 0; i < digits.length; i++) {
      let d = digits.charCodeAt(digits.length - 1 - i) - 48;
      if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
      sum += d;
    }
    return sum % 10 === 0;
  };
  const plausible = (name, match) => {
    if (name !== "credit_card") return true;
    const digits = match.replace(/\D/g, "");
    return digits.length >= 13 && digits.length <= 19 && luhn(digits);
  };

  // [start, end) spans of `text` to hide.
  const spans = (text) => {
    const out = [];
    for (const { name, re } of patterns) {
      re.lastIndex = 0;
      let m;
      while ((m = re.exec(text)) !== null) {
        if (m[0].length === 0) { re.lastIndex++; continue; }
        if (plausible(name, m[0])) out.push([m.index, m.index + m[0].length]);
      }
    }
    for (const v of values) {
      let i = text.indexOf(v);
      while (i !== -1) {
        out.push([i, i + v.length]);
        i = text.indexOf(v, i + v.length);
      }
    }
    return out;
  };
  const hide = (text, found) => {
    const chars = Array.from(text.split(""));
    for (const [s, e] of found) {
      for (let i = s; i < e; i++) if (/[\p{L}\p{N}]/u.test(chars[i])) chars[i] = "\u2022";
    }
    return chars.join("");
  };

  const skipped = (node) => {
    const p = node.parentNode;
    return !p || (p.nodeType === 1 && SKIP.has(p.nodeName));
  };
  const maskNode = (node) => {
    if (skipped(node)) return;
    const original = originalOf(node);
    const found = original.length >= 4 ? spans(original) : [];
    if (found.length === 0) {
      if (originals.has(node)) {
        originals.delete(node);
        if (node.data !== original) node.data = original;
      }
      return;
    }
    const masked = hide(original, found);
    originals.set(node, [original, masked]);
    if (node.data !== masked) node.data = masked;
  };
  const maskTree = (root) => {
    if (root.nodeType === 3) { maskNode(root); return; }
    if (root.nodeType !== 1 && root.nodeType !== 9 && root.nodeType !== 11) return;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) maskNode(n);
  };

  // The page's text as it really is (masked nodes give their original).
  const pageText = () => {
    const root = document.body || document.documentElement;
    if (!root) return "";
    const parts = [];
    let size = 0;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n && size < MAX_TEXT; n = walker.nextNode()) {
      if (skipped(n)) continue;
      const t = originalOf(n);
      if (t.trim() === "") continue;
      parts.push(t);
      size += t.length + 1;
    }
    return parts.join("\n");
  };

  let lastReported = null;
  let timer = 0;
  let seq = 0;
  const report = () => {
    timer = 0;
    const text = pageText();
    if (text === lastReported) return;
    lastReported = text;
    try {
      globalThis.__isolatorPage(JSON.stringify({ k: "page_text", url: location.href, seq: seq++, text }));
    } catch (_) { /* binding gone */ }
  };
  const schedule = (delay) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(report, delay);
  };

  // In the isolated world, the server's answer lands here.
  globalThis.__isolatorPageMask = (answer) => {
    patterns = compile(answer.detectors || []);
    values = (answer.values || []).filter((v) => typeof v === "string" && v.length >= 4);
    for (const node of Array.from(originals.keys())) {
      if (!node.isConnected) originals.delete(node);
    }
    maskTree(document);
    return originals.size;
  };

  let applying = false;
  const observer = new MutationObserver((records) => {
    if (applying) return;
    applying = true;
    try {
      for (const r of records) {
        if (r.type === "characterData") maskNode(r.target);
        else for (const n of r.addedNodes) maskTree(n);
      }
    } finally {
      applying = false;
      observer.takeRecords(); // our own changes
    }
    schedule(700);
  });
  observer.observe(document, { childList: true, subtree: true, characterData: true });
  maskTree(document);
  const loaded = () => schedule(50);
  if (document.readyState === "complete") loaded();
  else window.addEventListener("load", loaded, { once: true });
})();

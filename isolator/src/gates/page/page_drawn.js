// Page-content gate, what the page draws beyond its text nodes: CSS
// generated content and values spread over several blocks. The server
// appends it to `page_text.js`; `page_content.js` builds it with its own
// helpers (`__isolatorDrawn(env)`) and masks through it.
const __isolatorDrawn = (env) => {
  const { INLINE, SKIP, hide, spans, active, unitOf, skipped } = env;
  const walk = (...a) => env.walk(...a);

  // ---- generated content (::before, ::after) -----------------------------

  // A masked pseudo-element shows the text in our attribute instead of its
  // own content, by one rule in a cascade layer declared before any of the
  // page's: important declarations of an earlier layer win over every later
  // layer and over unlayered ones, whatever their specificity, so the page
  // cannot override it with a stronger selector. The page can see the
  // style element and remove or change it: it is put back at once (the
  // observer sees the removal; the sweep checks it is intact).
  const PSEUDO_ATTR = { before: "data-isolator-before", after: "data-isolator-after" };
  const MASK_CSS = "@layer isolator-mask{" +
    "[data-isolator-before]::before{content:attr(data-isolator-before)!important}" +
    "[data-isolator-after]::after{content:attr(data-isolator-after)!important}" +
    "[data-isolator-closed]{opacity:0!important}}";
  let maskStyle = null;
  const pseudoEls = new Set(); // elements whose generated content holds text
  // Document rules do not reach into shadow trees: a shadow root holding
  // an element we mask (or a closed host to hide) adopts the same rules as
  // a constructed sheet. (Within the shadow tree, the page's own style
  // elements come before adopted sheets, so a layer it declares there with
  // an important `content` would win: the pixel net's case.)
  let shadowSheet = null;
  const ensureShadowStyle = (root) => {
    if (!shadowSheet) {
      shadowSheet = new CSSStyleSheet();
      shadowSheet.replaceSync(MASK_CSS);
    }
    const list = root.adoptedStyleSheets || [];
    if (!list.includes(shadowSheet)) root.adoptedStyleSheets = [shadowSheet].concat(Array.from(list));
  };
  // Our rules where `el` is drawn: its document, or its shadow root.
  const styleFor = (el) => {
    const root = el.getRootNode();
    if (root && root.nodeType === 11 && root.host) ensureShadowStyle(root);
    else ensureStyle();
  };
  const ensureStyle = () => {
    const root = document.documentElement;
    if (!root) return;
    if (!maskStyle) {
      maskStyle = document.createElement("style");
      maskStyle.textContent = MASK_CSS;
    }
    if (maskStyle.textContent !== MASK_CSS) maskStyle.textContent = MASK_CSS;
    if (maskStyle.sheet && maskStyle.sheet.disabled) maskStyle.sheet.disabled = false;
    if (maskStyle.media) maskStyle.media = "";
    if (root.firstChild !== maskStyle) root.insertBefore(maskStyle, root.firstChild);
  };
  // Counter values where each element's pseudo-elements draw them, for the
  // whole document (computed once per change, only when some content uses
  // a counter).
  let counters = null;
  const countersAt = () => {
    if (counters) return counters;
    counters = new WeakMap();
    const values = new Map();
    const { applyCounters } = __isolatorText;
    let budget = 20000;
    const apply = (cs) => applyCounters(values, cs.counterReset, cs.counterSet, cs.counterIncrement);
    const visit = (el) => {
      if (budget-- <= 0) return;
      apply(getComputedStyle(el));
      const at = {};
      const b = getComputedStyle(el, "::before");
      if (b.content !== "none" && b.content !== "normal") { apply(b); at.before = new Map(values); }
      for (const c of el.children) visit(c);
      const a = getComputedStyle(el, "::after");
      if (a.content !== "none" && a.content !== "normal") { apply(a); at.after = new Map(values); }
      if (at.before || at.after) counters.set(el, at);
    };
    if (document.documentElement) visit(document.documentElement);
    return counters;
  };
  // The text the page's own style draws in `el`'s pseudo-element (ours is
  // lifted for the reading: no paint can happen in between).
  // What was read this pass (emptied with the counters: at each batch of
  // changes), so that one element's style is read once per pass.
  let read = new Map();
  const pseudoText = (el, which) => {
    const key = which === "before" ? 0 : 1;
    let r = read.get(el);
    if (r && r[key] !== undefined) return r[key];
    if (!r) { r = []; read.set(el, r); }
    r[key] = readPseudo(el, which);
    return r[key];
  };
  const readPseudo = (el, which) => {
    const a = PSEUDO_ATTR[which];
    const ours = el.getAttribute(a);
    if (ours !== null) el.removeAttribute(a);
    try {
      const v = getComputedStyle(el, "::" + which).content;
      if (!v || v === "none" || v === "normal") return "";
      return __isolatorText.contentText(v, (n) => el.getAttribute(n), (n) => {
        const at = v.includes("counter") ? countersAt().get(el) : null;
        const m = at && at[which];
        return m && m.has(n) ? [m.get(n)] : [0];
      });
    } catch (_) {
      return "";
    } finally {
      if (ours !== null) el.setAttribute(a, ours);
    }
  };
  const setPseudo = (el, which, original, found) => {
    const a = PSEUDO_ATTR[which];
    if (found.length === 0) {
      if (el.hasAttribute(a)) el.removeAttribute(a);
      return;
    }
    styleFor(el);
    const masked = hide(original, found);
    if (el.getAttribute(a) !== masked) el.setAttribute(a, masked);
  };
  // Whether `el` draws text of its own in a pseudo-element (noted for the
  // page's text).
  // Reading every element's pseudo-elements is costly (two computed styles
  // each), so the document's style sheets are read first: only elements
  // matching a rule that sets `content` on `::before`/`::after` are
  // candidates. A sheet we cannot read (cross-origin) or a selector we
  // cannot take apart makes every element a candidate; elements in shadow
  // trees (their own sheets) always are.
  let contentSel = null;
  const pseudoRe = /::?(before|after)\b/gi;
  const contentSelectors = () => {
    if (contentSel !== null) return contentSel;
    const parts = new Set();
    let all = false;
    const visit = (rules, depth) => {
      for (const r of rules) {
        if (all) return;
        if (r.selectorText !== undefined && r.style) {
          // Nested rules (`&::before`) are not taken apart: all elements.
          if (r.cssRules && r.cssRules.length) { all = true; return; }
          if (r.style.getPropertyValue("content")) {
            for (const part of r.selectorText.split(",")) {
              if (!/::?(before|after)\b/i.test(part)) continue;
              const sel = part.replace(pseudoRe, "").trim() || "*";
              try { document.createDocumentFragment().querySelector(sel); parts.add(sel); }
              catch (_) { all = true; }
            }
          }
        } else if (r.cssRules && depth < 8) visit(r.cssRules, depth + 1);
        else if (r.styleSheet) {
          try { visit(r.styleSheet.cssRules, depth + 1); } catch (_) { all = true; }
        }
      }
    };
    for (const sh of Array.from(document.styleSheets).concat(document.adoptedStyleSheets || [])) {
      try { visit(sh.cssRules, 0); } catch (_) { all = true; }
    }
    contentSel = all ? "*" : Array.from(parts).join(",");
    return contentSel;
  };
  const candidate = (el) => {
    if (pseudoEls.has(el) || el.getRootNode() !== document) return true;
    const sel = contentSelectors();
    if (sel === "*") return true;
    if (!sel) return false;
    try { return el.matches(sel); } catch (_) { return true; }
  };
  const notePseudo = (el) => {
    if (el === maskStyle) return false;
    const has = candidate(el) && !!(pseudoText(el, "before") || pseudoText(el, "after"));
    if (has) pseudoEls.add(el);
    else pseudoEls.delete(el);
    return has;
  };
  // The unit an element's pseudo-elements are drawn in.
  const pseudoUnit = (el) => (INLINE.has(el.nodeName) ? unitOf(el) : el);

  // ---- values spread over blocks: the container's line, as drawn -----------

  // A value can be drawn from several blocks: four small boxes each holding
  // a group, flex or grid items moved with `order` or placed by the grid, a
  // value whose halves sit in two blocks one above the other. For a
  // container whose text holds enough digits, its children are read in the
  // order they are drawn (by their boxes: top to bottom by line, left to
  // right on a line) and joined; the children a value is found in are
  // hidden whole. (Text the page draws in canvases, or positions with no
  // common container, is left to the pixel net.)
  const forced = new WeakSet(); // text nodes and pseudo hosts hidden whole
  const lined = new Map(); // container -> the children it hides
  const MIN_DIGITS = 12;
  const MAX_PIECE_DIGITS = 9;
  // Digits in `c`'s text; 0 when it is long (a value drawn from pieces
  // sits in a small container; a page's body is not read whole each time).
  const MAX_LINE_TEXT = 2000;
  const digitsIn = (c) => {
    const t = c.textContent;
    if (t.length > MAX_LINE_TEXT) return 0;
    let n = 0;
    for (let i = 0; i < t.length; i++) {
      const ch = t.charCodeAt(i);
      if (ch >= 48 && ch <= 57) n++;
    }
    return n;
  };
  const lineCheck = (c, units) => {
    if (!c || c.nodeType !== 1 || SKIP.has(c.nodeName)) return;
    const kids = c.children.length >= 2 && c.children.length <= 64 ? Array.from(c.children) : [];
    const digits = kids.length ? digitsIn(c) : 0;
    let hits = [];
    if (digits >= MIN_DIGITS && active()) {
      const items = [];
      for (const e of kids) {
        if (SKIP.has(e.nodeName)) continue;
        const t = e.textContent.trim();
        if (!t) continue;
        const r = e.getBoundingClientRect();
        if (r.width > 0 && r.height > 0) items.push({ e, r, t });
      }
      items.sort((a, b) => {
        const sameLine = Math.abs(a.r.top - b.r.top) < Math.min(a.r.height, b.r.height) / 2;
        return sameLine ? a.r.left - b.r.left : a.r.top - b.r.top;
      });
      // Pieces of a value are short: a child with more digits than a
      // group or two (a table cell's long number, a paragraph) is read on
      // its own, not joined to its neighbours.
      let text = "";
      const at = [];
      for (const i of items) {
        const alone = (i.t.match(/\d/g) || []).length > MAX_PIECE_DIGITS;
        if (text) text += alone ? "\n" : " ";
        at.push([i.e, text.length, text.length + i.t.length]);
        text += i.t;
        if (alone) text += "\n";
      }
      const found = spans(text);
      // Values inside one child are that child's own business.
      hits = at.filter(([, s0, e0]) => found.some(([s, e]) => s < e0 && e > s0 &&
        !(s >= s0 && e <= e0))).map(([e]) => e);
    }
    const before = lined.get(c) || [];
    if (hits.length === 0 && before.length === 0) return;
    if (hits.length) lined.set(c, hits); else lined.delete(c);
    for (const e of new Set(before.concat(hits))) {
      const on = hits.includes(e);
      walk(e, (t) => {
        if (on) forced.add(t); else forced.delete(t);
        if (!skipped(t)) units.add(unitOf(t));
      }, (el) => {
        if (on) forced.add(el); else forced.delete(el);
        if (pseudoEls.has(el)) units.add(pseudoUnit(el));
      }, false);
    }
  };
  // Our style element stays first and intact while it is in use.
  const keepStyle = () => {
    if (maskStyle && (!maskStyle.isConnected ||
      (document.documentElement && document.documentElement.firstChild !== maskStyle) ||
      maskStyle.textContent !== MASK_CSS || (maskStyle.sheet && maskStyle.sheet.disabled))) ensureStyle();
  };
  return {
    forced, lineCheck, pseudoEls, pseudoText, setPseudo, notePseudo, pseudoUnit, styleFor,
    keepStyle, newPass: () => { counters = null; read = new Map(); },
    resetSheets: () => { contentSel = null; },
  };
};

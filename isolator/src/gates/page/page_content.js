// Page-content gate, page side. Runs at document start in the isolated world
// of every document of every isolated page (the page cannot see or change it).
//
// 1. Masks at once: text is checked as it is added or changed
//    (MutationObserver callbacks run before the next paint), and likely
//    values of the masked detectors are replaced by bullets, keeping
//    separators, so the value never reaches the screen. Text is matched per
//    block (a text node's nearest ancestor that is not an inline element),
//    so a value split across text nodes and inline elements
//    (`<span>4111</span> <span>1111</span>`, `41<b>11</b>`) is found and
//    each of its pieces hidden. Also masked: input and textarea values
//    (hidden with `-webkit-text-security`, so the value the page submits is
//    untouched), `title`/`alt`/`placeholder`/`aria-label` attributes, open
//    shadow roots and same-origin iframes, and CSS generated content
//    (`::before`/`::after` with strings, `attr()` and counters), read from
//    the computed style as part of its block's text and, where it holds or
//    completes a value, overridden by our own rule (`page_drawn.js`).
//    Cross-site iframes get this script through their own target
//    (`frames.rs`).
// 2. Reports the page's ORIGINAL text (the values it masked included) to the
//    server through the `__isolatorPage` binding after load and after
//    significant changes (debounced), for the authoritative scan.
// 3. The server answers through `__isolatorPageMask({detectors, values, ocr,
//    hideImages})`: the detectors this page's rule masks (masks of others
//    are undone), the exact values its engine found, which are masked
//    wherever they occur, and whether images are OCR'd here.
// 4. Where they are, images (`<img>`, `<canvas>`, `<svg>`, CSS background
//    images) of a useful size are sent to the server one at a time as PNG
//    (drawn from the pixels the page already has; cross-origin ones by URL),
//    and each answer (`__isolatorImageAnswer`) says clean or mask. While the
//    rule hides images, new or changed ones are blurred before they paint
//    and stay blurred until found clean.
//
// The server prepends `const __ISOLATOR_PAGE = {patterns: {detector: source},
// checks: {detector: "luhn"}, ocr, minSide, minArea, maxPixels, maxImages,
// maxBytes}`, the pure helpers of `page_text.js` (`__isolatorText`) and
// `page_drawn.js` (`__isolatorDrawn`: generated content, values spread over
// blocks).
(() => {
  if (window.__isolatorPageInstalled) return;
  window.__isolatorPageInstalled = true;
  const config = typeof __ISOLATOR_PAGE === "object" ? __ISOLATOR_PAGE : { patterns: {} };
  const MAX_TEXT = 4 << 20;
  const SKIP = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEXTAREA", "TEMPLATE"]);
  // Elements whose text flows on the same line as their neighbours'.
  const INLINE = new Set(["A", "ABBR", "B", "BDI", "BDO", "BIG", "CITE", "CODE", "DATA", "DEL",
    "DFN", "EM", "FONT", "I", "INS", "KBD", "LABEL", "MARK", "NOBR", "Q", "S", "SAMP", "SMALL",
    "SPAN", "STRIKE", "STRONG", "SUB", "SUP", "TIME", "TT", "U", "VAR"]);
  const ATTRS = ["title", "alt", "placeholder", "aria-label"];
  const FIELD_TYPES = new Set(["", "text", "search", "tel", "email", "url", "number"]);
  const OPTS = {
    childList: true, subtree: true, characterData: true,
    attributes: true, attributeFilter: ATTRS.concat(["value", "src", "srcset", "class", "style"]),
  };

  const { hide } = __isolatorText;
  const compile = (names) => {
    const out = [];
    for (const name of names) {
      const src = config.patterns[name];
      if (src) out.push({ name, re: new RegExp(src, "g"), check: (config.checks || {})[name] });
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
  // [start, end) spans of `text` to hide.
  const spans = (text) => __isolatorText.spans(text, patterns, values);

  // ---- text, per block --------------------------------------------------

  const skipped = (node) => {
    const p = node.parentNode;
    return !p || (p.nodeType === 1 && SKIP.has(p.nodeName));
  };
  // The block a text node's text flows in.
  const unitOf = (node) => {
    let p = node.parentNode;
    while (p && p.nodeType === 1 && INLINE.has(p.nodeName)) p = p.parentNode;
    return p;
  };
  // The unit's text nodes in document order; `null` where a block or
  // replaced element separates them (their text is another unit's);
  // `{el, which}` where an element's `::before`/`::after` is drawn.
  const unitNodes = (unit) => {
    const out = [];
    const own = unit.nodeType === 1;
    if (own) out.push({ el: unit, which: "before" });
    const stack = [unit.firstChild];
    while (stack.length) {
      const c = stack.pop();
      if (!c) continue;
      if (c.which) { out.push(c); continue; }
      stack.push(c.nextSibling);
      if (c.nodeType === 3) out.push(c);
      else if (c.nodeName === "BR") out.push(" "); // one block, drawn on two lines
      else if (c.nodeType === 1) {
        if (INLINE.has(c.nodeName)) {
          out.push({ el: c, which: "before" });
          stack.push({ el: c, which: "after" });
          stack.push(c.firstChild);
        } else out.push(null);
      }
    }
    if (own) out.push({ el: unit, which: "after" });
    return out;
  };
  // The unit's text as drawn, and where each piece of it starts:
  // [[node or pseudo, start, its original text]]. Generated content is
  // read only where the walk found some (`drawn.notePseudo`).
  const unitText = (unit) => {
    let text = "";
    const at = [];
    for (const n of unitNodes(unit)) {
      if (n === null) { text += "\n"; continue; }
      if (typeof n === "string") { text += n; continue; }
      if (n.which && !drawn.pseudoEls.has(n.el)) continue;
      const t = n.which ? drawn.pseudoText(n.el, n.which) : originalOf(n);
      if (n.which && !t) continue;
      at.push([n, text.length, t]);
      text += t;
    }
    return [text, at];
  };
  const setText = (node, original, found) => {
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
  const maskUnit = (unit) => {
    if (!unit || (unit.nodeType === 1 && SKIP.has(unit.nodeName))) return;
    const [text, at] = unitText(unit);
    const found = spans(text);
    for (const [n, start, t] of at) {
      const end = start + t.length;
      const local = [];
      for (const [s, e] of found) {
        if (s < end && e > start) local.push([Math.max(s, start) - start, Math.min(e, end) - start]);
      }
      if (drawn.forced.has(n.which ? n.el : n)) local.push([0, t.length]);
      if (n.which) drawn.setPseudo(n.el, n.which, t, local);
      else setText(n, t, local);
    }
  };

  // Masks `units`, then the lines of their containers.
  const maskUnits = (units) => {
    for (const u of units) maskUnit(u);
    const more = new Set();
    const containers = new Set();
    for (const u of units) if (u && u.parentNode) containers.add(u.nodeType === 1 ? u.parentNode : u);
    for (const u of units) if (u && u.nodeType === 1 && u.children.length >= 2) containers.add(u);
    for (const c of containers) drawn.lineCheck(c, more);
    for (const u of more) maskUnit(u);
  };

  // ---- fields and attributes -------------------------------------------

  const fields = new Map(); // masked field -> its own text-security [value, priority]
  const isField = (el) =>
    el.nodeName === "TEXTAREA" ||
    (el.nodeName === "INPUT" && FIELD_TYPES.has((el.getAttribute("type") || "").toLowerCase()));
  const maskField = (el) => {
    if (!el || el.nodeType !== 1 || !isField(el)) return;
    const hit = spans(String(el.value || "")).length > 0;
    const on = fields.has(el);
    if (hit && !on) {
      fields.set(el, [el.style.getPropertyValue("-webkit-text-security"),
        el.style.getPropertyPriority("-webkit-text-security")]);
      el.style.setProperty("-webkit-text-security", "disc", "important");
    } else if (!hit && on) {
      const [v, p] = fields.get(el);
      fields.delete(el);
      if (v) el.style.setProperty("-webkit-text-security", v, p);
      else el.style.removeProperty("-webkit-text-security");
      if (el.getAttribute("style") === "") el.removeAttribute("style");
    }
  };
  const attrOriginals = new WeakMap(); // element -> Map(attribute -> [original, masked])
  const attrOriginal = (el, a) => {
    const cur = el.getAttribute(a);
    const o = attrOriginals.get(el)?.get(a);
    return o && o[1] === cur ? o[0] : cur;
  };
  const maskAttrs = (el) => {
    if (!el.hasAttributes()) return;
    for (const a of ATTRS) {
      if (!el.hasAttribute(a)) continue;
      const original = attrOriginal(el, a);
      const found = spans(original);
      let m = attrOriginals.get(el);
      if (found.length === 0) {
        if (m && m.has(a)) {
          m.delete(a);
          if (el.getAttribute(a) !== original) el.setAttribute(a, original);
        }
        continue;
      }
      const masked = hide(original, found);
      if (!m) { m = new Map(); attrOriginals.set(el, m); }
      m.set(a, [original, masked]);
      if (el.getAttribute(a) !== masked) el.setAttribute(a, masked);
    }
  };

  // ---- walking documents, shadow roots, iframes --------------------------

  // Closed shadow roots. The page's own script attaches them and this world
  // cannot reach them through the DOM (`host.shadowRoot` is null). The
  // main-world hook tells us of each new shadow root; a host whose root we
  // cannot see is hidden at once (our rule, `opacity: 0`, before the next
  // paint) and the server is asked to adopt it: it finds the root with CDP
  // (`DOM.describeNode` pierces closed roots), resolves it in this world
  // and hands it to `__isolatorAdoptShadow`, after which it is masked and
  // watched like an open one and the host shown again. The functions live
  // in this isolated world: the page can neither call nor replace them, and
  // a fake event only makes the server look and find no root.
  const closedRoots = new WeakMap(); // host -> its closed shadow root
  const closedWaiting = []; // hosts the server is to look at
  const shadowOf = (el) => el.shadowRoot || closedRoots.get(el) || null;
  globalThis.__isolatorClosedHost = () => closedWaiting.shift() || null;
  globalThis.__isolatorAdoptShadow = (root) => {
    if (!root || root.nodeType !== 11 || !root.host) return false;
    const host = root.host;
    closedRoots.set(host, root);
    if (watch(root)) maskTree(root);
    host.removeAttribute("data-isolator-closed");
    schedule(300);
    return true;
  };
  // The server found no closed root on `host` (a fake event, or gone).
  globalThis.__isolatorNoShadow = (host) => {
    if (host && host.nodeType === 1 && !closedRoots.has(host)) host.removeAttribute("data-isolator-closed");
    return true;
  };
  const askClosed = (host) => {
    if (closedRoots.has(host) || closedWaiting.length >= 500) return;
    drawn.styleFor(host);
    host.setAttribute("data-isolator-closed", "");
    closedWaiting.push(host);
    send({ k: "closed_shadow", url: location.href });
  };

  const observed = new WeakSet(); // roots the observer watches
  let observer = null;
  const watch = (root) => {
    if (!root || observed.has(root)) return false;
    observed.add(root);
    observer.observe(root, OPTS);
    return true;
  };
  // Same-origin iframe documents (their own script may not run in an
  // about:blank document a parent writes into).
  const frameDoc = (el) => {
    try { return el.contentDocument; } catch (_) { return null; }
  };
  // Every text node and element under `root`, into open shadow roots and
  // (unless `frames` is false) same-origin iframes.
  const walk = (root, onText, onElement, frames = true) => {
    if (root.nodeType === 3) { onText(root); return; }
    if (root.nodeType !== 1 && root.nodeType !== 9 && root.nodeType !== 11) return;
    const w = document.createTreeWalker(root, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT);
    for (let n = root.nodeType === 1 ? root : w.nextNode(); n; n = w.nextNode()) {
      if (n.nodeType === 3) { onText(n); continue; }
      onElement(n);
      const sr = shadowOf(n);
      if (sr) walk(sr, onText, onElement, frames);
      if (frames && (n.nodeName === "IFRAME" || n.nodeName === "FRAME")) {
        const d = frameDoc(n);
        if (d && d.documentElement) walk(d.documentElement, onText, onElement);
      }
    }
  };
  const drawn = __isolatorDrawn({
    INLINE, SKIP, hide, spans, unitOf, skipped, walk,
    active: () => patterns.length > 0 || values.length > 0,
  });
  const visitElement = (el) => {
    if (isField(el)) maskField(el);
    maskAttrs(el);
    const sr = shadowOf(el);
    if (sr) watch(sr);
    if (el.nodeName === "IFRAME" || el.nodeName === "FRAME") {
      const d = frameDoc(el);
      if (d) watch(d);
    }
    if (ocrOn || hidePending) noteImage(el);
  };
  const maskTree = (root) => {
    const units = new Set();
    drawn.newPass();
    walk(root, (n) => { if (!skipped(n)) units.add(unitOf(n)); }, (el) => {
      visitElement(el);
      if (drawn.notePseudo(el)) units.add(drawn.pseudoUnit(el));
    });
    maskUnits(units);
  };

  // The page's text as it really is (masked nodes give their original):
  // pieces of one block joined as they flow, blocks on their own lines;
  // then field values and attributes.
  const pageText = () => {
    const root = document.body || document.documentElement;
    if (!root) return "";
    const parts = [];
    const extra = [];
    let size = 0;
    const units = new Set();
    const addUnit = (u) => {
      if (!u || units.has(u) || size >= MAX_TEXT) return;
      units.add(u);
      const t = unitText(u)[0];
      parts.push("\n", t);
      size += t.length;
    };
    walk(root, (n) => {
      if (size >= MAX_TEXT || skipped(n)) return;
      addUnit(unitOf(n));
    }, (el) => {
      if (size >= MAX_TEXT) return;
      if (drawn.pseudoEls.has(el)) addUnit(drawn.pseudoUnit(el));
      if (isField(el) && el.value) { extra.push(String(el.value)); size += el.value.length; }
      for (const a of ATTRS) {
        if (el.hasAttribute(a)) { const t = attrOriginal(el, a); extra.push(t); size += t.length; }
      }
    });
    return (parts.join("").replace(/\n\s*\n/g, "\n").trim() + "\n" + extra.join("\n")).trim();
  };

  let lastReported = null;
  let timer = 0;
  let seq = 0;
  const send = (msg) => {
    try { globalThis.__isolatorPage(JSON.stringify(msg)); return true; } catch (_) { return false; }
  };
  const report = () => {
    timer = 0;
    const text = pageText();
    if (text === lastReported) return;
    lastReported = text;
    send({ k: "page_text", url: location.href, seq: seq++, text });
  };
  const schedule = (delay) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(report, delay);
  };

  // ---- images ------------------------------------------------------------

  let ocrOn = false; // the server said this page's images are OCR'd
  let hidePending = !!config.ocr; // provisional, until the server has spoken
  const BLUR = "blur(40px)";
  const blurred = new Map(); // element -> its own filter [value, priority]
  const images = new WeakMap(); // element -> {id, sig, state: pending|clean|masked|skip}
  const byId = new Map(); // id -> element, while an answer is awaited
  let nextId = 1;
  let sent = 0; // images sent for this document (budget)

  const setBlur = (el, on) => {
    if (on === blurred.has(el)) return;
    if (on) {
      blurred.set(el, [el.style.getPropertyValue("filter"), el.style.getPropertyPriority("filter")]);
      el.style.setProperty("filter", BLUR, "important");
    } else {
      const [v, p] = blurred.get(el);
      blurred.delete(el);
      if (v) el.style.setProperty("filter", v, p);
      else el.style.removeProperty("filter");
      if (el.getAttribute("style") === "") el.removeAttribute("style");
    }
  };
  const isSvgRoot = (el) =>
    el.nodeName.toLowerCase() === "svg" && !(el.parentElement && el.parentElement.closest("svg"));
  const isImage = (el) => el.nodeName === "IMG" || el.nodeName === "CANVAS" || isSvgRoot(el);
  const stateOf = (el) => {
    let s = images.get(el);
    if (!s) { s = { id: nextId++, sig: "", state: "pending" }; images.set(el, s); }
    return s;
  };
  // A new or changed element: hidden before it paints while the rule hides
  // what it has not checked.
  const noteImage = (el, changed) => {
    if (!isImage(el)) return;
    const s = stateOf(el);
    if (changed && s.state !== "masked") s.state = "pending";
    if (hidePending && s.state !== "clean" && s.state !== "skip") setBlur(el, true);
  };
  const backgroundUrl = (el) => {
    const bg = getComputedStyle(el).backgroundImage;
    const m = bg && bg !== "none" ? /url\("?([^")]+)"?\)/.exec(bg) : null;
    return m ? m[1] : null;
  };
  const describe = (el, w, h) => {
    let d = "<" + el.nodeName.toLowerCase();
    if (el.id) d += "#" + String(el.id).slice(0, 40);
    const cls = typeof el.className === "string" ? el.className.trim().split(/\s+/)[0] : "";
    if (cls) d += "." + cls.slice(0, 40);
    return d + "> " + Math.round(w) + "x" + Math.round(h);
  };
  const hash = (s) => {
    let h = 2166136261;
    for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); }
    return (h >>> 0).toString(16) + ":" + s.length;
  };
  const webUrl = (u) => (/^https?:/i.test(u || "") ? u : "");
  // Draws `source` to a PNG of at most maxPixels, on white (OCR reads dark on light).
  const draw = (source, w, h) => {
    const scale = Math.min(1, Math.sqrt(config.maxPixels / Math.max(1, w * h)));
    const c = document.createElement("canvas");
    c.width = Math.max(1, Math.round(w * scale));
    c.height = Math.max(1, Math.round(h * scale));
    const g = c.getContext("2d");
    g.fillStyle = "#fff";
    g.fillRect(0, 0, c.width, c.height);
    g.drawImage(source, 0, 0, c.width, c.height);
    return c.toDataURL("image/png"); // throws when the pixels are cross-origin
  };
  const loadImage = (url) => new Promise((resolve, reject) => {
    const i = new Image();
    i.onload = () => resolve(i);
    i.onerror = () => reject(new Error("the image did not load"));
    i.src = url;
  });
  // The candidate's content: {sig, png} | {sig, src} | {sig, error} | null (not ready).
  const capture = async (el, bg, w, h) => {
    if (bg) {
      try {
        const i = await loadImage(bg);
        try { return { sig: "bg|" + bg, png: draw(i, i.naturalWidth, i.naturalHeight) }; }
        catch (_) { return { sig: "bg|" + bg, src: webUrl(bg), error: webUrl(bg) ? null : "cross-origin image" }; }
      } catch (e) { return { sig: "bg|" + bg, error: String(e.message || e) }; }
    }
    if (el.nodeName === "IMG") {
      if (!el.complete) return null;
      const sig = "img|" + el.currentSrc + "|" + el.naturalWidth + "x" + el.naturalHeight;
      if (el.naturalWidth === 0) return { sig, skip: true }; // broken: nothing painted
      try { return { sig, png: draw(el, el.naturalWidth, el.naturalHeight) }; }
      catch (_) {
        const src = webUrl(el.currentSrc);
        return src ? { sig, src } : { sig, error: "the image's pixels cannot be read back" };
      }
    }
    if (el.nodeName === "CANVAS") {
      try {
        const png = draw(el, el.width, el.height);
        return { sig: "canvas|" + hash(png), png };
      } catch (_) {
        return { sig: "canvas|tainted|" + el.width + "x" + el.height,
          error: "the canvas holds cross-origin pixels" };
      }
    }
    // Inline SVG: rasterised from its markup at its on-screen size, without
    // our blur (the pixels must be the page's own, and the signature too).
    const clone = el.cloneNode(true);
    const own = blurred.get(el);
    if (own) {
      if (own[0]) clone.style.setProperty("filter", own[0], own[1]);
      else clone.style.removeProperty("filter");
    }
    if (clone.getAttribute("style") === "") clone.removeAttribute("style");
    const markup = new XMLSerializer().serializeToString(clone);
    const sig = "svg|" + hash(markup);
    const url = URL.createObjectURL(new Blob([markup], { type: "image/svg+xml" }));
    try {
      const i = await loadImage(url);
      return { sig, png: draw(i, w * 2, h * 2) };
    } catch (e) {
      return { sig, error: "the SVG cannot be rasterised (" + String(e.message || e) + ")" };
    } finally {
      URL.revokeObjectURL(url);
    }
  };
  const ask = (msg) => new Promise((resolve) => {
    byId.set(msg.id, resolve);
    if (!send(msg)) { byId.delete(msg.id); resolve(null); return; }
    setTimeout(() => { if (byId.get(msg.id) === resolve) { byId.delete(msg.id); resolve(null); } }, 30000);
  });
  globalThis.__isolatorImageAnswer = (a) => {
    const r = byId.get(a.id);
    if (r) { byId.delete(a.id); r(a); }
  };

  // Candidates on screen-worthy sizes, in document order.
  const candidates = () => {
    const out = [];
    let styled = 0;
    walk(document.documentElement || document, () => {}, (el) => {
      if (isImage(el)) { out.push([el, null]); return; }
      if (styled++ < 5000 && el.nodeType === 1) {
        const bg = backgroundUrl(el);
        if (bg) out.push([el, bg]);
      }
    }, false); // an iframe's own script checks its images
    return out;
  };
  let running = false;
  let again = false;
  let imageTimer = 0;
  const scheduleImages = (delay) => {
    if (!ocrOn) return;
    if (imageTimer) clearTimeout(imageTimer);
    imageTimer = setTimeout(() => { imageTimer = 0; scanImages(); }, delay);
  };
  const scanImages = async () => {
    if (running) { again = true; return; }
    running = true;
    try {
      for (const [el, bg] of candidates()) {
        if (!ocrOn) break;
        if (!el.isConnected) continue;
        const s = stateOf(el);
        const r = el.getBoundingClientRect();
        if (r.width < config.minSide || r.height < config.minSide || r.width * r.height < config.minArea) {
          if (s.state !== "masked") { s.state = "skip"; setBlur(el, false); }
          continue;
        }
        let c;
        try { c = await capture(el, bg, r.width, r.height); } catch (e) { c = { sig: "error", error: String(e) }; }
        if (!c) continue; // not loaded yet: its load event brings it back
        if (c.skip) { s.state = "skip"; s.sig = c.sig; setBlur(el, false); continue; }
        if (c.sig === s.sig && (s.state === "clean" || s.state === "masked")) {
          setBlur(el, s.state === "masked");
          continue;
        }
        if (s.state === "skip") s.state = "pending";
        if (hidePending || s.state === "masked") setBlur(el, true);
        const msg = { k: "page_image", url: location.href, id: s.id, sig: c.sig,
          what: describe(el, r.width, r.height), src: c.src || webUrl(bg || (el.currentSrc || "")) };
        if (sent >= config.maxImages) {
          msg.error = "more than " + config.maxImages + " images on one page";
        } else if (c.png && c.png.length * 0.75 > config.maxBytes) {
          msg.error = "the image is too large to scan";
        } else if (c.png) {
          msg.png = c.png;
          sent++;
        } else if (c.error) {
          msg.error = c.error;
        } else {
          sent++;
        }
        s.sig = c.sig;
        const a = await ask(msg);
        if (!a) continue; // no answer: stays pending (and hidden where the rule hides)
        if (a.state === "off") { ocrOn = false; break; }
        if (a.state === "busy") { again = true; continue; }
        if (a.sig !== s.sig) continue;
        s.state = a.state === "mask" ? "masked" : "clean";
        setBlur(el, s.state === "masked");
      }
    } finally {
      running = false;
      if (!ocrOn) releaseImages();
      else if (again) { again = false; scheduleImages(1000); }
    }
  };
  // Unhides every image hidden only because it was not checked yet, or all
  // of them when this page's images are not OCR'd.
  const releaseImages = () => {
    for (const el of Array.from(blurred.keys())) {
      if (!el.isConnected) { blurred.delete(el); continue; }
      const s = images.get(el);
      const keep = ocrOn && ((s && s.state === "masked") ||
        (hidePending && (!s || s.state === "pending")));
      if (!keep) setBlur(el, false);
    }
  };

  // ---- the server's answers and the observers ------------------------------

  // In the isolated world, the server's answer lands here.
  globalThis.__isolatorPageMask = (answer) => {
    patterns = compile(answer.detectors || []);
    values = (answer.values || []).filter((v) => typeof v === "string" && v.length >= 4);
    for (const node of Array.from(originals.keys())) {
      if (!node.isConnected) originals.delete(node);
    }
    for (const el of Array.from(fields.keys())) if (!el.isConnected) fields.delete(el);
    const wasOn = ocrOn;
    ocrOn = !!answer.ocr;
    hidePending = ocrOn && !!answer.hideImages;
    maskTree(document);
    if (!ocrOn || !hidePending) releaseImages();
    if (ocrOn) scheduleImages(wasOn ? 300 : 0);
    return originals.size;
  };

  // Elements under `root` whose generated content changed (or may have):
  // their units, into `units`.
  const restyle = (root, units) => {
    drawn.newPass();
    walk(root, () => {}, (e) => {
      const had = drawn.pseudoEls.has(e);
      if (drawn.notePseudo(e) || had) units.add(drawn.pseudoUnit(e));
    });
  };
  const isStyle = (n) => n && n.nodeType === 1 && (n.nodeName === "STYLE" || n.nodeName === "LINK");
  // What the page's style sheets hold, roughly: a change re-reads every
  // element's generated content (rules added through the CSSOM make no
  // mutation).
  const sheetsSig = () => {
    let n = 0;
    for (const sh of Array.from(document.styleSheets).concat(document.adoptedStyleSheets || [])) {
      try { n += sh.cssRules.length * 31 + 1; } catch (_) { n += 7; }
    }
    return document.styleSheets.length + ":" + n;
  };
  let lastSheets = "";

  let applying = false;
  observer = new MutationObserver((records) => {
    if (applying) return;
    applying = true;
    let images = false;
    try {
      const units = new Set();
      const restyled = new Set();
      let sheets = false;
      drawn.newPass();
      for (const r of records) {
        if (r.type === "characterData") {
          if (!skipped(r.target)) units.add(unitOf(r.target));
          else if (r.target.parentNode && isField(r.target.parentNode)) maskField(r.target.parentNode);
          else if (isStyle(r.target.parentNode)) sheets = true;
        } else if (r.type === "attributes") {
          const el = r.target;
          if (r.attributeName === "src" || r.attributeName === "srcset") {
            noteImage(el, true);
            images = true;
          } else if (r.attributeName === "value") maskField(el);
          else if (r.attributeName === "class" || r.attributeName === "style") restyled.add(el);
          else {
            maskAttrs(el);
            // attr() in generated content reads attributes.
            if (drawn.pseudoEls.has(el)) units.add(drawn.pseudoUnit(el));
          }
        } else {
          if (isStyle(r.target)) { sheets = true; continue; }
          if (r.target.nodeType === 1 && SKIP.has(r.target.nodeName)) {
            if (isField(r.target)) maskField(r.target);
            continue;
          }
          for (const n of r.removedNodes) if (isStyle(n)) sheets = true;
          // Removed or added pieces change the text of their block.
          if (r.removedNodes.length) units.add(r.target.nodeType === 3 ? unitOf(r.target) : unitOf({ parentNode: r.target }));
          for (const n of r.addedNodes) {
            if (n.nodeType === 3) { if (!skipped(n)) units.add(unitOf(n)); continue; }
            if (isStyle(n)) sheets = true;
            if (n.nodeType === 1 && INLINE.has(n.nodeName)) units.add(unitOf(n));
            walk(n, (t) => { if (!skipped(t)) units.add(unitOf(t)); }, (el) => {
              visitElement(el);
              if (drawn.notePseudo(el)) units.add(drawn.pseudoUnit(el));
            });
            images = true;
          }
        }
      }
      if (sheets) { drawn.resetSheets(); restyle(document, units); }
      else for (const el of restyled) if (el.isConnected) restyle(el, units);
      maskUnits(units);
      drawn.keepStyle();
    } finally {
      applying = false;
      observer.takeRecords(); // our own changes
    }
    schedule(700);
    if (images) scheduleImages(700);
  });
  watch(document);

  // Script-set values and shadow roots, told by the main-world hooks
  // synchronously (before the next paint); typed values by input events.
  const first = (e) => (e.composedPath && e.composedPath()[0]) || e.target;
  window.addEventListener("__isolator_value", (e) => { maskField(first(e)); schedule(700); }, true);
  window.addEventListener("input", (e) => { maskField(first(e)); schedule(700); }, true);
  window.addEventListener("change", (e) => maskField(first(e)), true);
  window.addEventListener("__isolator_shadow", (e) => {
    const host = first(e);
    if (!host || host.nodeType !== 1) return;
    if (!host.shadowRoot) { askClosed(host); return; }
    if (watch(host.shadowRoot)) queueMicrotask(() => maskTree(host.shadowRoot));
  }, true);
  // (Resource load events stop at the document: listen there.)
  document.addEventListener("load", (e) => {
    const t = e.target;
    if (!t || t.nodeType !== 1) return;
    if (t.nodeName === "IFRAME" || t.nodeName === "FRAME") {
      const d = frameDoc(t);
      if (d) { watch(d); maskTree(d); }
    }
    if (t.nodeName === "IMG") scheduleImages(100);
    if (t.nodeName === "LINK") {
      // A style sheet arrived: generated content may have changed.
      applying = true;
      try {
        const units = new Set();
        drawn.resetSheets();
        restyle(document, units);
        maskUnits(units);
      } finally {
        applying = false;
        observer.takeRecords();
      }
    }
  }, true);
  // Values a page sets without any event (a hook the page undid): a sweep.
  setInterval(() => {
    if (patterns.length === 0 && values.length === 0 && fields.size === 0) return;
    for (const el of document.querySelectorAll("input,textarea")) maskField(el);
    // Style rules added without a mutation, and our own rule kept intact.
    const sig = sheetsSig();
    applying = true;
    try {
      if (sig !== lastSheets) {
        lastSheets = sig;
        drawn.resetSheets();
        const units = new Set();
        restyle(document, units);
        maskUnits(units);
      }
      drawn.keepStyle();
    } finally {
      applying = false;
      observer.takeRecords();
    }
  }, 1000);
  // Canvases change without mutations: re-checked every 2 s.
  setInterval(() => {
    if (ocrOn && !running && document.querySelector("canvas")) scanImages();
  }, 2000);

  maskTree(document);
  const loaded = () => schedule(50);
  if (document.readyState === "complete") loaded();
  else window.addEventListener("load", loaded, { once: true });
})();

// Page-content gate, main-world hooks. The isolated world where the gate
// runs (page_content.js) sees the DOM but not the page's JavaScript: a page
// script setting an input's `value`, or attaching a shadow root, changes
// nothing a MutationObserver reports. These hooks tell the gate at once,
// synchronously, with a composed event on the element, so the gate masks
// before the next paint. A page can undo them; it then only defeats
// masking of values it shows itself, and the gate's periodic sweep of field
// values still catches those within a second.
(() => {
  if (window.__isolatorHooks) return;
  Object.defineProperty(window, "__isolatorHooks", { value: true });
  const tell = (el, type) => {
    try { el.dispatchEvent(new Event(type, { composed: true })); } catch (_) { /* detached */ }
  };
  const hook = (proto, prop) => {
    const d = Object.getOwnPropertyDescriptor(proto, prop);
    if (!d || !d.set) return;
    Object.defineProperty(proto, prop, {
      configurable: true,
      enumerable: d.enumerable,
      get: d.get,
      set(v) { d.set.call(this, v); tell(this, "__isolator_value"); },
    });
  };
  hook(HTMLInputElement.prototype, "value");
  hook(HTMLInputElement.prototype, "defaultValue");
  hook(HTMLTextAreaElement.prototype, "value");
  hook(HTMLTextAreaElement.prototype, "defaultValue");
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function attachShadow(init) {
    const root = attach.call(this, init);
    tell(this, "__isolator_shadow");
    return root;
  };
  // A steady caret. Chromium blinks a focused field's caret by drawing a
  // new frame every half second; each is captured, encoded and sent like
  // any other, so a session left with a field focused streamed frames for
  // ever (and its cast never rested). `caret-animation: manual` keeps the
  // caret drawn, without the blink. An adopted sheet, not a <style>
  // element, so the page's DOM is untouched; `caret-animation` is
  // inherited, so shadow trees take it too. Here, not in the session's
  // page script, because these hooks reach cross-site frames too.
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(":root, * { caret-animation: manual !important; }");
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  } catch (_) { /* no constructable sheets: the caret blinks */ }
  // Drawing on a canvas changes nothing in the DOM: tell the session, which
  // rests the screencast of a still page and wakes it on this event (at
  // most every half second per document; the event says nothing else).
  // One flag read per draw call (a draw call is about 1 us; reading the
  // clock on every one added half of that): set when the event is sent,
  // cleared by a timer half a second later.
  let told = false;
  const later = setTimeout;
  const untell = () => { told = false; };
  const drawing = (proto, names) => {
    if (!proto) return;
    for (const name of names) {
      const f = proto[name];
      if (typeof f !== "function") continue;
      Object.defineProperty(proto, name, {
        configurable: true,
        writable: true,
        value: function () {
          if (!told) {
            const c = this.canvas;
            if (c && c.isConnected) {
              told = true;
              later(untell, 500);
              tell(c, "__isolator_drawn");
            }
          }
          return f.apply(this, arguments);
        },
      });
    }
  };
  drawing(window.CanvasRenderingContext2D && CanvasRenderingContext2D.prototype, [
    "fillRect", "strokeRect", "clearRect", "fillText", "strokeText", "drawImage", "putImageData",
    "fill", "stroke", "drawFocusIfNeeded", "reset",
  ]);
  for (const gl of [window.WebGLRenderingContext, window.WebGL2RenderingContext]) {
    drawing(gl && gl.prototype, ["clear", "drawArrays", "drawElements", "drawArraysInstanced",
      "drawElementsInstanced", "drawRangeElements"]);
  }
  drawing(window.ImageBitmapRenderingContext && ImageBitmapRenderingContext.prototype, ["transferFromImageBitmap"]);
})();

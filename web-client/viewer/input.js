// Keyboard, text, paste, mouse, wheel and touch input -> protocol messages.
//
// Keyboard input goes through a hidden but focused <textarea> (the "sink")
// rather than the canvas: only an editable element receives IME composition
// and mobile keyboard input. Every key that is forwarded has its default
// prevented, so Tab, Backspace, F5... act on the remote page, not this one.
// Exceptions, kept local on purpose:
// - Ctrl/Cmd+V and Shift+Insert: the native `paste` event reads the local
//   clipboard and sends its text as a `paste` message (never as a key) and
//   its images to the image paste endpoint (`pasteImages`, paste_image.js);
// - browser shortcuts that a headless page would ignore are turned into
//   commands: Alt+Left/Right (back/forward), F5 and Ctrl/Cmd+R (reload),
//   Ctrl/Cmd+L, Alt+D and F6 (address bar);
// - F11 (full screen) and F12 (developer tools) stay with the local browser;
// - keys during IME composition (the composed text is sent at the end).
// On a Mac client, Cmd and Ctrl are swapped on the way out (see `macToPc`),
// so Cmd+C / Cmd+A / Cmd+Z do what a Mac user expects in the remote page.
//
// Pointer moves and wheel deltas are coalesced to one message per animation
// frame; discrete events (button down/up, keys) flush a pending move first so
// the server sees them in order and at the right position.

import { clipboardImages } from './clipboard_items.js';

/** `mods` bits, as in CDP. */
export const MOD_ALT = 1;
export const MOD_CTRL = 2;
export const MOD_META = 4;
export const MOD_SHIFT = 8;

/** Pixels per wheel "line" and fraction of the viewport per "page" (deltaMode 1 and 2). */
const WHEEL_LINE_PX = 40;
const WHEEL_PAGE_FRACTION = 0.9;
/** Largest JSON message the server accepts. */
const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

const IS_MAC = typeof navigator !== 'undefined' && /Mac|iPhone|iPad|iPod/.test(navigator.platform || navigator.userAgent);
const BUTTONS = ['left', 'middle', 'right', 'back', 'forward'];

/** The `mods` bitmask of a keyboard, mouse or wheel event. */
export function modsOf(e) {
  return (e.altKey ? MOD_ALT : 0) | (e.ctrlKey ? MOD_CTRL : 0) | (e.metaKey ? MOD_META : 0) | (e.shiftKey ? MOD_SHIFT : 0);
}

/** The pressed button to report with a move: the first held button in DOM `buttons` order. */
function heldButton(buttons) {
  if (buttons & 1) return 'left';
  if (buttons & 4) return 'middle';
  if (buttons & 2) return 'right';
  if (buttons & 8) return 'back';
  if (buttons & 16) return 'forward';
  return 'none';
}

/**
 * On a Mac client, Cmd plays the role Ctrl has on the (Linux) remote browser:
 * Cmd+C, Cmd+A, Cmd+Z... must arrive as Ctrl+C, Ctrl+A, Ctrl+Z. The Cmd key
 * itself is sent as Control and the Meta and Ctrl bits are swapped.
 */
export function macToPc(e) {
  let mods = modsOf(e) & ~(MOD_META | MOD_CTRL);
  if (e.metaKey) mods |= MOD_CTRL;
  if (e.ctrlKey) mods |= MOD_META;
  if (e.key === 'Meta') {
    const right = e.code === 'MetaRight' || e.code === 'OSRight';
    return { key: 'Control', code: right ? 'ControlRight' : 'ControlLeft', keyCode: 17, mods };
  }
  if (e.key === 'Control') {
    const right = e.code === 'ControlRight';
    return { key: 'Meta', code: right ? 'MetaRight' : 'MetaLeft', keyCode: 91, mods };
  }
  return { key: e.key, code: e.code, keyCode: e.keyCode, mods };
}

function isPasteShortcut(e) {
  const primary = IS_MAC ? e.metaKey && !e.ctrlKey : e.ctrlKey && !e.metaKey;
  if (primary && !e.altKey && (e.code === 'KeyV' || e.key === 'v' || e.key === 'V')) return true;
  return e.shiftKey && !e.ctrlKey && !e.metaKey && !e.altKey && e.key === 'Insert';
}

/** Whether `e` produces a printable character by itself (no command modifier). */
function isPrintable(e) {
  return [...e.key].length === 1 && !e.ctrlKey && !e.metaKey;
}

export class InputController {
  /**
   * @param {object} o
   * @param {HTMLCanvasElement} o.canvas
   * @param {HTMLTextAreaElement} o.sink
   * @param {(msg: object) => boolean} o.send
   * @param {(msg: object) => boolean} o.sendDroppable
   * @param {{back: Function, forward: Function, reload: Function, focusAddress: Function}} o.commands
   * @param {(level: string, code: string, message: string) => void} o.notify
   * @param {(files: File[]) => void} [o.pasteImages] clipboard images of a paste
   */
  constructor({ canvas, sink, send, sendDroppable, commands, notify, pasteImages }) {
    this.canvas = canvas;
    this.sink = sink;
    this.send = send;
    this.sendDroppable = sendDroppable;
    this.commands = commands;
    this.notify = notify;
    this.pasteImages = pasteImages || (() => this.notify('info', 'paste_empty', 'Images cannot be pasted here.'));
    this.enabled = false;
    this.composing = false;
    /** code -> key of keys whose keydown was forwarded, to release them on blur. */
    this.keysDown = new Map();
    this.lastPrintable = { key: '', at: 0 };
    this.mouseButtons = 0;
    this.lastPos = { x: 0, y: 0 };
    this.pendingMove = null;
    this.pendingWheel = null;
    this.pendingTouch = null;
    this.raf = 0;
    this.encoder = new TextEncoder();
    this.bind();
  }

  /** Turns input forwarding on or off (off while disconnected or a modal is open). */
  setEnabled(on) {
    if (this.enabled && !on) this.releaseAll();
    this.enabled = on;
  }

  /** Puts keyboard focus on the sink, so typing goes to the remote page. */
  focus() {
    if (document.activeElement !== this.sink) this.sink.focus({ preventScroll: true });
  }

  bind() {
    const s = this.sink;
    s.addEventListener('keydown', (e) => this.onKeyDown(e));
    s.addEventListener('keyup', (e) => this.onKeyUp(e));
    s.addEventListener('compositionstart', () => {
      this.composing = true;
    });
    s.addEventListener('compositionend', (e) => this.onCompositionEnd(e));
    s.addEventListener('input', (e) => this.onInput(e));
    s.addEventListener('paste', (e) => this.onPaste(e));
    s.addEventListener('blur', () => this.releaseKeys());
    window.addEventListener('blur', () => this.releaseAll());

    const c = this.canvas;
    c.addEventListener('mousedown', (e) => this.onMouseDown(e));
    window.addEventListener('mouseup', (e) => this.onMouseUp(e), true);
    window.addEventListener('mousemove', (e) => this.onMouseMove(e), { passive: true });
    c.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    c.addEventListener('contextmenu', (e) => e.preventDefault());
    c.addEventListener('auxclick', (e) => e.preventDefault());
    for (const type of ['touchstart', 'touchmove', 'touchend', 'touchcancel']) {
      c.addEventListener(type, (e) => this.onTouch(e), { passive: false });
    }
  }

  // ---- keyboard -----------------------------------------------------------

  localCommand(e) {
    const primary = IS_MAC ? e.metaKey : e.ctrlKey;
    const onlyAlt = e.altKey && !e.ctrlKey && !e.metaKey && !e.shiftKey;
    const c = this.commands;
    if ((onlyAlt && !IS_MAC && e.key === 'ArrowLeft') || (IS_MAC && e.metaKey && e.key === '[')) return c.back;
    if ((onlyAlt && !IS_MAC && e.key === 'ArrowRight') || (IS_MAC && e.metaKey && e.key === ']')) return c.forward;
    if (e.key === 'F5' && !e.altKey) return c.reload;
    if (primary && !e.altKey && (e.code === 'KeyR' || e.key === 'r' || e.key === 'R')) return c.reload;
    if (primary && !e.altKey && !e.shiftKey && (e.code === 'KeyL' || e.key === 'l')) return c.focusAddress;
    if (onlyAlt && !IS_MAC && (e.code === 'KeyD' || e.key === 'd')) return c.focusAddress;
    if (e.key === 'F6' && !e.ctrlKey && !e.metaKey && !e.altKey) return c.focusAddress;
    return null;
  }

  onKeyDown(e) {
    // Not connected: keys act locally (F5 reloads this page, which is what a stuck user tries).
    if (!this.enabled) return;
    // 229 is "the IME is handling this key": its text arrives via composition or input events.
    if (this.composing || e.isComposing || e.keyCode === 229) return;
    // A dead key (accent) only prepares the next character, which arrives as a key of its own.
    if (e.key === 'Dead' || e.key === 'Unidentified') return;
    const command = this.localCommand(e);
    if (command) {
      e.preventDefault();
      if (!e.repeat) command();
      return;
    }
    if (isPasteShortcut(e)) return;
    if (e.key === 'F11' || e.key === 'F12') return;
    e.preventDefault();
    if (isPrintable(e)) this.lastPrintable = { key: e.key, at: performance.now() };
    this.flushPointer();
    this.keysDown.set(e.code || e.key, e);
    this.sendKey('down', e);
  }

  onKeyUp(e) {
    const id = e.code || e.key;
    if (!this.keysDown.has(id)) return; // its keydown stayed local (shortcut, paste, IME)
    this.keysDown.delete(id);
    e.preventDefault();
    if (this.enabled) this.sendKey('up', e);
    // macOS sends no keyup for keys released while Cmd is down: release them with Cmd.
    if (IS_MAC && e.key === 'Meta') this.releaseKeys();
  }

  sendKey(type, e) {
    const k = IS_MAC ? macToPc(e) : { key: e.key, code: e.code, keyCode: e.keyCode, mods: modsOf(e) };
    this.send({
      t: 'key',
      type,
      key: k.key,
      code: k.code,
      key_code: k.keyCode,
      mods: k.mods,
      repeat: type === 'down' && e.repeat,
      location: e.location,
    });
  }

  /** Sends key-ups for every forwarded key still down (focus left the viewer). */
  releaseKeys() {
    if (this.keysDown.size === 0) return;
    const held = [...this.keysDown.values()];
    this.keysDown.clear();
    if (!this.enabled) return;
    for (const e of held) {
      const k = IS_MAC ? macToPc(e) : e;
      this.send({ t: 'key', type: 'up', key: k.key, code: k.code, key_code: k.keyCode, mods: 0, repeat: false, location: e.location });
    }
  }

  releaseAll() {
    this.releaseKeys();
    if (this.mouseButtons && this.enabled) {
      for (let i = 0; i < BUTTONS.length; i++) {
        const bit = [1, 4, 2, 8, 16][i];
        if (this.mouseButtons & bit) this.sendMouse('up', this.lastPos, BUTTONS[i], 0, 1, 0);
      }
    }
    this.mouseButtons = 0;
  }

  onCompositionEnd(e) {
    this.composing = false;
    if (e.data && this.enabled) this.sendText(e.data);
    this.sink.value = '';
  }

  onInput(e) {
    if (this.composing || e.isComposing) return;
    const value = this.sink.value;
    this.sink.value = '';
    if (!this.enabled) return;
    switch (e.inputType) {
      case 'insertText':
      case 'insertReplacementText': {
        const text = e.data ?? value;
        if (!text) return;
        // The keydown of a printable key was already forwarded; do not type it twice.
        const recent = performance.now() - this.lastPrintable.at < 100;
        if (recent && text === this.lastPrintable.key) return;
        this.sendText(text);
        return;
      }
      case 'insertLineBreak':
      case 'insertParagraph':
        this.tapKey('Enter', 'Enter', 13);
        return;
      case 'deleteContentBackward':
        this.tapKey('Backspace', 'Backspace', 8);
        return;
      case 'deleteContentForward':
        this.tapKey('Delete', 'Delete', 46);
        return;
      default:
        // insertFromPaste is handled by the paste event; formatting commands have no remote meaning.
        return;
    }
  }

  tapKey(key, code, keyCode) {
    const base = { t: 'key', key, code, key_code: keyCode, mods: 0, repeat: false, location: 0 };
    this.send({ ...base, type: 'down' });
    this.send({ ...base, type: 'up' });
  }

  sendText(text) {
    this.flushPointer();
    this.send({ t: 'text', text });
  }

  onPaste(e) {
    e.preventDefault();
    if (!this.enabled) return;
    const data = e.clipboardData;
    const text = data ? data.getData('text/plain') : '';
    const images = clipboardImages(data);
    if (!text && !images.length) {
      const onlyFiles = data && data.files && data.files.length > 0;
      this.notify(
        'info',
        'paste_empty',
        onlyFiles ? 'Only text and images can be pasted into the remote page.' : 'The clipboard holds no text or image to paste.',
      );
      return;
    }
    this.flushPointer();
    if (text) {
      const msg = { t: 'paste', text };
      const bytes = this.encoder.encode(JSON.stringify(msg)).length;
      if (bytes > MAX_MESSAGE_BYTES) {
        const kib = Math.ceil(bytes / 1024);
        this.notify('warn', 'paste_too_large', `This paste is ${kib} KiB; at most 4 MiB of text can be pasted at once.`);
      } else {
        this.send(msg);
      }
    }
    // Images go over HTTP (paste_image.js); both pass the paste gate.
    if (images.length) this.pasteImages(images);
  }

  // ---- mouse and wheel ---------------------------------------------------

  /** Event position in CSS px relative to the canvas, clamped to it, rounded. */
  position(e) {
    const r = this.canvas.getBoundingClientRect();
    const x = Math.min(Math.max(e.clientX - r.left, 0), Math.max(r.width - 1, 0));
    const y = Math.min(Math.max(e.clientY - r.top, 0), Math.max(r.height - 1, 0));
    return { x: Math.round(x), y: Math.round(y) };
  }

  sendMouse(type, pos, button, buttons, clicks, mods, dx = 0, dy = 0) {
    const msg = { t: 'mouse', type, x: pos.x, y: pos.y, button, buttons, clicks, mods, dx, dy };
    return type === 'move' ? this.sendDroppable(msg) : this.send(msg);
  }

  onMouseDown(e) {
    // Keeps the local page from selecting text, autoscrolling or moving focus to the canvas.
    e.preventDefault();
    this.focus();
    const pos = this.position(e);
    this.placeSink(pos);
    if (!this.enabled) return;
    this.flushPointer();
    this.lastPos = pos;
    this.mouseButtons = e.buttons || this.mouseButtons | [1, 4, 2, 8, 16][e.button] || 0;
    this.sendMouse('down', pos, BUTTONS[e.button] || 'none', e.buttons, Math.max(1, e.detail), modsOf(e));
  }

  onMouseUp(e) {
    const started = this.mouseButtons !== 0;
    if (e.target !== this.canvas && !started) return;
    // Back/forward buttons would navigate this page away from the viewer.
    if (e.target === this.canvas || e.button >= 3) e.preventDefault();
    if (!this.enabled) return;
    this.flushPointer();
    const pos = this.position(e);
    this.lastPos = pos;
    this.mouseButtons = e.buttons;
    this.sendMouse('up', pos, BUTTONS[e.button] || 'none', e.buttons, Math.max(1, e.detail), modsOf(e));
  }

  onMouseMove(e) {
    if (!this.enabled) return;
    if (e.target !== this.canvas && this.mouseButtons === 0) return;
    const pos = this.position(e);
    if (pos.x === this.lastPos.x && pos.y === this.lastPos.y && this.pendingMove === null) return;
    this.lastPos = pos;
    this.pendingMove = { pos, buttons: e.buttons, mods: modsOf(e) };
    this.schedule();
  }

  onWheel(e) {
    e.preventDefault();
    if (!this.enabled) return;
    let { deltaX: dx, deltaY: dy } = e;
    if (e.deltaMode === WheelEvent.DOM_DELTA_LINE) {
      dx *= WHEEL_LINE_PX;
      dy *= WHEEL_LINE_PX;
    } else if (e.deltaMode === WheelEvent.DOM_DELTA_PAGE) {
      const r = this.canvas.getBoundingClientRect();
      dx *= r.width * WHEEL_PAGE_FRACTION;
      dy *= r.height * WHEEL_PAGE_FRACTION;
    }
    const pos = this.position(e);
    const mods = modsOf(e);
    const w = this.pendingWheel;
    if (w && w.mods === mods) {
      w.dx += dx;
      w.dy += dy;
      w.pos = pos;
    } else {
      if (w) this.flushWheel();
      this.pendingWheel = { pos, dx, dy, mods, buttons: e.buttons };
    }
    this.schedule();
  }

  // ---- touch ---------------------------------------------------------------

  touchPoints(list) {
    const r = this.canvas.getBoundingClientRect();
    return Array.from(list, (t) => ({
      id: t.identifier,
      x: Math.round(Math.min(Math.max(t.clientX - r.left, 0), r.width)),
      y: Math.round(Math.min(Math.max(t.clientY - r.top, 0), r.height)),
    }));
  }

  onTouch(e) {
    e.preventDefault();
    if (!this.enabled) return;
    const type = e.type.slice('touch'.length); // start | move | end | cancel
    if (type === 'move') {
      this.pendingTouch = this.touchPoints(e.touches);
      this.schedule();
      return;
    }
    this.flushPointer();
    // start: every finger on the surface; end/cancel: the fingers that left.
    const points = this.touchPoints(type === 'start' ? e.touches : e.changedTouches);
    this.send({ t: 'touch', type, points });
    if (type === 'end' && e.touches.length === 0) this.focus();
  }

  // ---- coalescing ----------------------------------------------------------

  schedule() {
    if (!this.raf) this.raf = requestAnimationFrame(() => this.flushPointer());
  }

  /** Sends the coalesced move, wheel and touch move now. */
  flushPointer() {
    if (this.raf) {
      cancelAnimationFrame(this.raf);
      this.raf = 0;
    }
    const m = this.pendingMove;
    if (m) {
      this.pendingMove = null;
      this.sendMouse('move', m.pos, heldButton(m.buttons), m.buttons, 0, m.mods);
    }
    this.flushWheel();
    const t = this.pendingTouch;
    if (t) {
      this.pendingTouch = null;
      if (t.length) this.send({ t: 'touch', type: 'move', points: t });
    }
  }

  flushWheel() {
    const w = this.pendingWheel;
    if (!w) return;
    this.pendingWheel = null;
    const dx = Math.round(w.dx);
    const dy = Math.round(w.dy);
    if (dx === 0 && dy === 0) return;
    this.sendMouse('wheel', w.pos, 'none', w.buttons, 0, w.mods, dx, dy);
  }

  /** Moves the (invisible) sink under the pointer so IME candidate windows open near the click. */
  placeSink(pos) {
    this.sink.style.left = `${pos.x}px`;
    this.sink.style.top = `${pos.y}px`;
  }
}

// Binary frames: header parsing, JPEG decoding and drawing on the canvas.
//
// Decoding is asynchronous (`createImageBitmap`), so frames go through a
// one-slot pipeline: while one frame decodes, only the newest waiting frame is
// kept; a frame overtaken that way is acknowledged at once so the server's
// two-frames-in-flight window never stalls. A frame is acknowledged after it
// is drawn (or dropped, or found corrupt).
//
// While the tab is hidden, frames are held (newest only) and not
// acknowledged; acks are cumulative, so the server stops at two frames in
// flight and resumes when the newest is drawn on return: a background tab
// costs no bandwidth and no decoding.
//
// The canvas backing store is CSS size x devicePixelRatio; a frame covering
// `width` x `height` CSS pixels is drawn into that many CSS pixels whatever
// its JPEG resolution, so a frame rendered for an older size still lines up
// with the pointer coordinates until the next frame arrives.

/** Size of the fixed frame header, in bytes. */
export const HEADER_BYTES = 16;
/** `kind` of a JPEG frame. */
export const KIND_JPEG = 1;

/**
 * Parses the 16-byte header of a binary message. Returns
 * `{kind, first, tab, seq, width, height}` or throws an Error naming the
 * problem.
 */
export function parseFrameHeader(buffer) {
  if (!(buffer instanceof ArrayBuffer)) throw new Error('frame: not an ArrayBuffer');
  if (buffer.byteLength < HEADER_BYTES) {
    throw new Error(`frame: ${buffer.byteLength} bytes, shorter than the ${HEADER_BYTES}-byte header`);
  }
  const v = new DataView(buffer);
  return {
    kind: v.getUint8(0),
    first: (v.getUint8(1) & 1) === 1,
    tab: v.getUint16(2),
    seq: v.getUint32(4),
    width: v.getUint16(8),
    height: v.getUint16(10),
  };
}

export class FrameRenderer {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{ack: (seq: number) => void, drawn: (header: object, ms: number) => void}} hooks
   *   `drawn` gets the time from decode start to the end of drawing
   */
  constructor(canvas, hooks) {
    this.canvas = canvas;
    this.hooks = hooks;
    this.ctx = canvas.getContext('2d', { alpha: false });
    this.cssWidth = 0;
    this.cssHeight = 0;
    this.dpr = 1;
    this.decoding = false;
    /** @type {null | {header: object, blob: Blob}} */
    this.waiting = null;
    /** @type {null | {header: object, bitmap: ImageBitmap}} */
    this.last = null;
    this.generation = 0;
    /** The remote tab on screen (null: not known yet, draw every frame). */
    this.activeTab = null;
    // In a background tab nothing is decoded or acknowledged: the server stops after two
    // unacknowledged frames, so a hidden viewer costs no bandwidth. The newest frame is drawn on return.
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && this.waiting && !this.decoding) this.pump();
    });
  }

  /** Sizes the backing store for a viewport of `width` x `height` CSS px at `dpr`, keeping the picture. */
  setViewport(width, height, dpr) {
    this.cssWidth = width;
    this.cssHeight = height;
    this.dpr = dpr;
    const pw = Math.max(1, Math.round(width * dpr));
    const ph = Math.max(1, Math.round(height * dpr));
    if (this.canvas.width !== pw || this.canvas.height !== ph) {
      this.canvas.width = pw;
      this.canvas.height = ph;
    }
    this.repaint();
  }

  /**
   * The active remote tab changed. A picture of another tab is wiped at once:
   * showing one page while input goes to another would mislead the user.
   */
  showTab(tab) {
    this.activeTab = tab;
    if (tab !== null && this.last && this.last.header.tab !== tab) {
      this.last.bitmap.close();
      this.last = null;
      this.clear();
    }
  }

  /** Forgets the picture (new session). Frames still decoding are acknowledged but not drawn. */
  reset() {
    this.generation += 1;
    this.activeTab = null;
    if (this.last) this.last.bitmap.close();
    this.last = null;
    if (this.waiting) this.hooks.ack(this.waiting.header.seq);
    this.waiting = null;
    this.clear();
  }

  /** Takes one binary message from the socket. */
  push(buffer) {
    let header;
    try {
      header = parseFrameHeader(buffer);
    } catch (err) {
      console.warn(`isolator: ${err.message}; ignored`);
      return;
    }
    if (header.kind !== KIND_JPEG) {
      // A newer server's message kind: acknowledge so the window keeps moving.
      console.warn(`isolator: frame kind ${header.kind} is unknown; ignored`);
      this.hooks.ack(header.seq);
      return;
    }
    const blob = new Blob([new Uint8Array(buffer, HEADER_BYTES)], { type: 'image/jpeg' });
    // Acks are cumulative (the server counts the newest): a hidden tab skips them to pause the stream.
    if (this.waiting && !document.hidden) this.hooks.ack(this.waiting.header.seq);
    this.waiting = { header, blob };
    if (!this.decoding && !document.hidden) this.pump();
  }

  async pump() {
    this.decoding = true;
    while (this.waiting) {
      const { header, blob } = this.waiting;
      this.waiting = null;
      const generation = this.generation;
      const started = performance.now();
      let bitmap = null;
      try {
        bitmap = await createImageBitmap(blob);
      } catch (err) {
        this.hooks.decodeFailed?.(header, err);
      }
      // A late frame of a tab that is no longer active is not drawn (a first frame always is).
      const stale = this.activeTab !== null && header.tab !== this.activeTab && !header.first;
      if (bitmap && generation === this.generation && !stale) {
        if (this.last) this.last.bitmap.close();
        this.last = { header, bitmap };
        if (header.first) this.clear();
        this.repaint();
        this.hooks.drawn(header, performance.now() - started, [bitmap.width, bitmap.height]);
      } else if (bitmap) {
        bitmap.close();
      }
      this.hooks.ack(header.seq);
    }
    this.decoding = false;
  }

  clear() {
    this.ctx.fillStyle = '#ffffff';
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
  }

  repaint() {
    if (!this.last) {
      this.clear();
      return;
    }
    const { header, bitmap } = this.last;
    const w = (header.width || this.cssWidth) * this.dpr;
    const h = (header.height || this.cssHeight) * this.dpr;
    const ctx = this.ctx;
    // Areas the frame does not cover (the window just grew) stay blank rather than stale.
    ctx.fillStyle = '#ffffff';
    if (w < this.canvas.width) ctx.fillRect(w, 0, this.canvas.width - w, this.canvas.height);
    if (h < this.canvas.height) ctx.fillRect(0, h, Math.min(w, this.canvas.width), this.canvas.height - h);
    ctx.imageSmoothingEnabled = bitmap.width !== Math.round(w) || bitmap.height !== Math.round(h);
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, 0, 0, w, h);
  }
}

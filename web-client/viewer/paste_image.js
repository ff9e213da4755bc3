// Image paste: clipboard images go to the isolator over HTTP, never over the
// session socket (a screenshot can exceed its 4 MiB message cap, and frames
// must keep flowing while it uploads).
//
// `POST /api/sessions/<id>/paste-image?name=<file name>` with the raw bytes,
// authenticated like uploads (session token + CSRF header). The server OCRs
// the image under the `paste` decision and, when allowed, pastes it into the
// focused element of the remote page; it answers `{allowed, message}`. While
// it works a small status line says "Pasting image… n%" then "Checking
// image…"; a refusal becomes a `block` notice (the same words the server's
// notice carries, so the two merge into one toast).
//
// Images are sent one after the other, at most MAX_IMAGES per paste. The
// outcome of the last one is mirrored in `state.imagePaste` for tests:
// `{state: 'sending'|'checking'|'allowed'|'blocked', name, size, ms, message}`.

import { update } from './state.js';
import { formatSize } from './transfer.js';
import { pasteAnswer, pasteImageUrl } from './clipboard_items.js';

export class ImagePaste {
  /**
   * @param {{session: () => ({id: string, token: string}|null),
   *          notify: (level: string, code: string, message: string) => void}} o
   */
  constructor({ session, notify }) {
    this.session = session;
    this.notify = notify;
    this.queue = Promise.resolve();
    this.status = document.createElement('div');
    this.status.className = 'paste-status';
    this.status.id = 'paste-status';
    this.status.setAttribute('role', 'status');
    this.status.setAttribute('aria-live', 'polite');
    this.status.hidden = true;
    document.body.append(this.status);
    update({ imagePaste: null });
  }

  /** Queues `files` (clipboard images) for the paste gate, in order. */
  pasteAll(files) {
    for (const f of files) this.queue = this.queue.then(() => this.paste(f));
    return this.queue;
  }

  show(text) {
    this.status.textContent = text;
    this.status.hidden = !text;
  }

  /** Sends one image; resolves to `{allowed, message}`. */
  async paste(file) {
    const s = this.session();
    const name = file.name || 'image.png';
    if (!s) {
      this.notify('warn', 'paste_unavailable', 'The image cannot be pasted: there is no session.');
      return { allowed: false, message: 'no session' };
    }
    const started = performance.now();
    const track = (st, message = '') =>
      update({ imagePaste: { state: st, name, size: file.size, ms: Math.round(performance.now() - started), message } });
    track('sending');
    this.show(`Pasting image (${formatSize(file.size)})\u2026`);
    const answer = await new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', pasteImageUrl(s.id, name));
      xhr.setRequestHeader('X-Isolator-Request', '1');
      xhr.setRequestHeader('X-Isolator-Token', s.token);
      xhr.setRequestHeader('Content-Type', 'application/octet-stream');
      xhr.upload.onprogress = (e) => {
        if (!e.lengthComputable) return;
        const pct = Math.round((e.loaded / e.total) * 100);
        this.show(pct < 100 ? `Pasting image\u2026 ${pct}%` : 'Checking image\u2026');
      };
      xhr.upload.onload = () => {
        track('checking');
        this.show('Checking image\u2026');
      };
      xhr.onload = () => resolve(pasteAnswer(xhr.status, xhr.responseText));
      xhr.onerror = () => resolve({ allowed: false, message: 'The image was not pasted: the server could not be reached.' });
      xhr.send(file);
    });
    this.show('');
    track(answer.allowed ? 'allowed' : 'blocked', answer.message);
    if (!answer.allowed) this.notify('block', 'paste_blocked', answer.message || 'The image was blocked.');
    return answer;
  }
}

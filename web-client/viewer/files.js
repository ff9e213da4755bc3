// Files crossing the isolation boundary: the file picker the remote page asks
// for (`file_chooser`), drag and drop of files onto the viewer while a picker
// is open, upload progress, the list of downloads the download gate allowed
// (`download`), and the Print button.
//
// Uploads go over HTTP (`POST /api/sessions/<id>/uploads?chooser=&name=`, raw
// bytes) so that large files never block the session socket; the server scans
// each file and answers whether the page received it. Downloads are fetched
// with the session token (`GET /api/sessions/<id>/downloads/<dl>`) and saved
// through a blob link. What a page can drop onto: while the page's file
// chooser is open, a drop anywhere on the viewer goes to that chooser (drop
// targets inside the page are not reached directly).

import { state, update } from './state.js';
import { formatSize, uploadUrl } from './transfer.js';

const el = (tag, attrs = {}, text = '') => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text) e.textContent = text;
  return e;
};

export class FileTransfers {
  /**
   * @param {{viewport: HTMLElement, toolbar: HTMLElement, session: () => ({id: string, token: string}|null),
   *          send: (msg: object) => boolean, notify: (level: string, code: string, message: string) => void,
   *          done: () => void}} opts
   */
  constructor({ viewport, toolbar, session, send, notify, done }) {
    this.session = session;
    this.send = send;
    this.notify = notify;
    this.done = done;
    /** The open chooser: {id, multiple, accept, busy}. */
    this.chooser = null;
    update({ files: { chooser: null, uploads: [], downloads: [] } });

    // Print button, before the connection status.
    this.printBtn = el('button', {
      id: 'btn-print', type: 'button', class: 'icon-btn', 'data-action': 'print',
      'aria-label': 'Print this page', title: 'Print (Ctrl+P)',
    });
    this.printBtn.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M19 8H5a3 3 0 0 0-3 3v6h4v4h12v-4h4v-6a3 3 0 0 0-3-3zm-3 11H8v-5h8zm3-7a1 1 0 1 1 0-2 1 1 0 0 1 0 2zM18 3H6v4h12z"/></svg>';
    this.printBtn.addEventListener('click', () => this.send({ t: 'print' }));
    const status = toolbar.querySelector('#status');
    toolbar.insertBefore(this.printBtn, status);

    // Downloads list (bottom right), shown once something is offered.
    this.list = el('section', { id: 'downloads', class: 'downloads', 'aria-label': 'Downloads', hidden: '' });
    const head = el('div', { class: 'downloads-head' });
    head.append(el('h2', {}, 'Downloads'));
    const hide = el('button', { type: 'button', class: 'btn', 'data-action': 'downloads-hide', 'aria-label': 'Hide downloads' }, 'Hide');
    hide.addEventListener('click', () => { this.list.hidden = true; this.done(); });
    head.append(hide);
    this.items = el('ul', { class: 'downloads-items' });
    this.list.append(head, this.items);
    document.body.append(this.list);

    // The picker dialog.
    this.dialog = el('dialog', { id: 'file-dialog', class: 'page-dialog file-dialog', 'aria-labelledby': 'file-dialog-title' });
    this.dialog.append(el('h2', { id: 'file-dialog-title' }, 'The page asks for a file'));
    this.hint = el('p', { class: 'page-dialog-message' }, 'Choose a file or drop it here. It is checked before the page receives it.');
    this.input = el('input', { type: 'file', id: 'file-input', 'data-role': 'file-input', 'aria-label': 'File for the remote page' });
    this.input.addEventListener('change', () => this.upload([...this.input.files]));
    this.zone = el('div', { class: 'drop-zone', 'data-role': 'drop-zone' });
    this.zone.append(this.hint, this.input);
    this.progress = el('ul', { class: 'upload-list', 'aria-live': 'polite' });
    const actions = el('div', { class: 'page-dialog-actions' });
    this.cancelBtn = el('button', { type: 'button', class: 'btn', 'data-action': 'file-cancel' }, 'Cancel');
    this.cancelBtn.addEventListener('click', () => this.cancel());
    actions.append(this.cancelBtn);
    this.dialog.append(this.zone, this.progress, actions);
    this.dialog.addEventListener('cancel', (e) => { e.preventDefault(); this.cancel(); });
    document.body.append(this.dialog);

    // Drag and drop: onto the dialog's zone or anywhere on the viewer while a chooser is open.
    for (const target of [viewport, this.dialog]) {
      target.addEventListener('dragover', (e) => {
        if (!e.dataTransfer || ![...e.dataTransfer.types].includes('Files')) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = this.chooser ? 'copy' : 'none';
        document.body.classList.toggle('dropping', !!this.chooser);
      });
      target.addEventListener('dragleave', () => document.body.classList.remove('dropping'));
      target.addEventListener('drop', (e) => {
        document.body.classList.remove('dropping');
        if (!e.dataTransfer || !e.dataTransfer.files.length) return;
        e.preventDefault();
        if (!this.chooser) {
          this.notify('info', 'drop_no_chooser', 'Click the page\u2019s file field first, then drop the file.');
          return;
        }
        this.upload([...e.dataTransfer.files]);
      });
    }
  }

  /** `file_chooser {id, multiple, accept}`: the page wants files. */
  open(m) {
    if (typeof m.id !== 'number') return;
    this.chooser = { id: m.id, multiple: !!m.multiple, accept: String(m.accept || ''), busy: 0 };
    this.input.value = '';
    this.input.multiple = this.chooser.multiple;
    if (this.chooser.accept) this.input.setAttribute('accept', this.chooser.accept);
    else this.input.removeAttribute('accept');
    this.progress.replaceChildren();
    this.cancelBtn.textContent = 'Cancel';
    update({ files: { ...state.files, chooser: m.id } });
    if (!this.dialog.open) this.dialog.showModal();
    this.input.focus();
  }

  cancel() {
    if (this.chooser && this.chooser.busy === 0 && !this.chooser.sent) this.send({ t: 'file_chooser_cancel', id: this.chooser.id });
    this.close();
  }

  close() {
    this.chooser = null;
    update({ files: { ...state.files, chooser: null } });
    if (this.dialog.open) this.dialog.close();
    this.done();
  }

  /** Uploads files to the open chooser one after the other. */
  async upload(files) {
    const c = this.chooser;
    const s = this.session();
    if (!c || !s || !files.length) return;
    if (!c.multiple) files = files.slice(0, 1);
    c.busy += files.length;
    for (const file of files) {
      const row = el('li', { class: 'upload-row' });
      const label = el('span', { class: 'upload-name' }, `${file.name} (${formatSize(file.size)})`);
      const bar = el('progress', { max: '100', value: '0', 'aria-label': `Upload of ${file.name}` });
      const result = el('span', { class: 'upload-result', role: 'status' }, 'Uploading\u2026');
      row.append(label, bar, result);
      this.progress.append(row);
      const answer = await this.send_file(s, c.id, file, (p) => { bar.value = p; });
      c.busy -= 1;
      bar.value = 100;
      row.dataset.outcome = answer.allowed ? 'allowed' : 'blocked';
      result.textContent = answer.allowed ? 'Given to the page' : answer.message;
      const uploads = [...state.files.uploads, { name: file.name, allowed: !!answer.allowed, message: answer.message }];
      update({ files: { ...state.files, uploads } });
      if (answer.allowed) c.sent = true;
      else this.notify('block', 'upload_blocked', answer.message);
    }
    if (this.chooser === c && c.busy === 0) {
      if (c.sent) this.close();
      else this.cancelBtn.textContent = 'Close';
    }
  }

  /** POSTs one file with progress; resolves to `{allowed, message}`. */
  send_file(s, chooser, file, onProgress) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', uploadUrl(s.id, chooser, file.name));
      xhr.setRequestHeader('X-Isolator-Request', '1');
      xhr.setRequestHeader('X-Isolator-Token', s.token);
      xhr.setRequestHeader('Content-Type', 'application/octet-stream');
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(Math.round((e.loaded / e.total) * 100)); };
      xhr.onload = () => {
        let body = null;
        try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
        if (xhr.status === 200 && body) resolve({ allowed: !!body.allowed, message: String(body.message || '') });
        else resolve({ allowed: false, message: String(body?.error || `The upload failed (HTTP ${xhr.status}).`) });
      };
      xhr.onerror = () => resolve({ allowed: false, message: 'The upload failed: the server could not be reached.' });
      xhr.send(file);
    });
  }

  /** `download {id, name, size}`: a file the download gate allowed. */
  offer(m) {
    if (typeof m.id !== 'number') return;
    const name = String(m.name || 'download');
    const item = el('li', { class: 'download-item', 'data-id': String(m.id) });
    const btn = el('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'download-save' }, 'Save');
    btn.setAttribute('aria-label', `Save ${name}`);
    btn.addEventListener('click', () => this.save(m.id, name));
    item.append(el('span', { class: 'download-name' }, name), el('span', { class: 'download-size' }, formatSize(Number(m.size))), btn);
    this.items.prepend(item);
    this.list.hidden = false;
    const downloads = [...state.files.downloads, { id: m.id, name, size: Number(m.size) }];
    update({ files: { ...state.files, downloads } });
    this.notify('info', 'download_ready', `${name} is ready to save (Downloads, bottom right).`);
  }

  /** Fetches download `id` with the session token. */
  async fetchDownload(id) {
    const s = this.session();
    if (!s) throw new Error('no session');
    const res = await fetch(`/api/sessions/${encodeURIComponent(s.id)}/downloads/${id}`, {
      headers: { 'X-Isolator-Token': s.token },
      cache: 'no-store',
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return res.blob();
  }

  async save(id, name) {
    try {
      const blob = await this.fetchDownload(id);
      const url = URL.createObjectURL(blob);
      const a = el('a', { href: url, download: name });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (err) {
      this.notify('warn', 'download_failed', `${name} could not be saved (${err.message}).`);
    }
  }
}

// Toasts (top right) for `notice` messages and local warnings.
//
// `info` fades after 6 s, `warn` after 10 s, `block` (an action the DLP
// policy refused) stays prominent for 15 s or until dismissed. Identical
// notices arriving while one is shown refresh it instead of stacking, so a
// page that retries a blocked action does not bury the screen.

import { pushNotice } from './state.js';

const LIFETIME_MS = { info: 6000, warn: 10000, block: 15000 };
const MAX_VISIBLE = 5;

export class Notices {
  /** @param {HTMLElement} region the toast container */
  constructor(region) {
    this.region = region;
    /** key -> {el, timer} */
    this.shown = new Map();
  }

  /** Shows a notice; `level` is `info` | `warn` | `block` (anything else counts as `info`). */
  show(level, code, message) {
    if (!['info', 'warn', 'block'].includes(level)) level = 'info';
    const text = String(message || code || 'Notice');
    pushNotice(level, String(code || ''), text);
    const key = `${level}\u0000${code}\u0000${text}`;
    const existing = this.shown.get(key);
    if (existing) {
      clearTimeout(existing.timer);
      existing.timer = this.expire(key, level);
      existing.el.classList.remove('toast-bump');
      void existing.el.offsetWidth; // restart the CSS animation
      existing.el.classList.add('toast-bump');
      return;
    }
    const el = document.createElement('div');
    el.className = `toast toast-${level}`;
    el.setAttribute('role', level === 'block' ? 'alert' : 'status');
    el.dataset.code = String(code || '');
    el.dataset.level = level;
    // Notices quote what pages named (file names, hosts): copied through the copy gate.
    el.dataset.pageText = '';

    const icon = document.createElement('span');
    icon.className = 'toast-icon';
    icon.setAttribute('aria-hidden', 'true');
    // The block icon is drawn in CSS (a "no entry" sign): emoji fonts are not everywhere.
    icon.textContent = level === 'block' ? '' : level === 'warn' ? '!' : 'i';

    const body = document.createElement('div');
    body.className = 'toast-body';
    if (level === 'block') {
      const title = document.createElement('strong');
      title.textContent = 'Blocked by policy';
      body.append(title);
    }
    const p = document.createElement('p');
    p.textContent = text;
    body.append(p);

    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'toast-close';
    close.setAttribute('aria-label', 'Dismiss notice');
    close.title = 'Dismiss';
    close.textContent = '\u00D7';
    close.addEventListener('click', () => this.dismiss(key));

    el.append(icon, body, close);
    this.region.prepend(el);
    this.shown.set(key, { el, timer: this.expire(key, level) });
    while (this.region.children.length > MAX_VISIBLE) {
      const oldest = this.region.lastElementChild;
      for (const [k, v] of this.shown) if (v.el === oldest) this.dismiss(k, true);
    }
  }

  expire(key, level) {
    return setTimeout(() => this.dismiss(key), LIFETIME_MS[level]);
  }

  /** Removes one toast (fading it out unless `now`). */
  dismiss(key, now = false) {
    const entry = this.shown.get(key);
    if (!entry) return;
    this.shown.delete(key);
    clearTimeout(entry.timer);
    if (now) {
      entry.el.remove();
      return;
    }
    entry.el.classList.add('toast-leaving');
    setTimeout(() => entry.el.remove(), 250);
  }

  /** Removes every toast. */
  clear() {
    for (const key of [...this.shown.keys()]) this.dismiss(key, true);
  }
}

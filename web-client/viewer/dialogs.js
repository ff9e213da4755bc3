// Page dialogs (alert / confirm / prompt / beforeunload) as an in-page modal.
//
// Uses <dialog>.showModal(): the browser traps focus and makes the rest of
// the page inert. Dialogs are queued by id, shown one at a time; Escape
// answers "cancel" (for an alert, "OK", which is the only answer it has).
// `dialog_closed` removes a dialog, shown or queued, without answering it.

const KINDS = ['alert', 'confirm', 'prompt', 'beforeunload'];

/** The heading of a dialog: "<host> says", as browsers show it, so the user knows who asks. */
export function dialogTitle(kind, pageUrl) {
  if (kind === 'beforeunload') return 'Leave this page?';
  let host = '';
  try {
    host = new URL(pageUrl).host;
  } catch {
    // No usable URL (about:blank...): fall back to "This page".
  }
  return host ? `${host} says` : 'This page says';
}

export class PageDialogs {
  /**
   * @param {HTMLDialogElement} el
   * @param {(answer: {id: number, accept: boolean, text: string}) => void} answer
   * @param {(dialog: null | object) => void} changed called with the dialog on screen
   * @param {() => string} pageUrl the URL of the page that opened the dialog
   */
  constructor(el, answer, changed, pageUrl) {
    this.el = el;
    this.pageUrl = pageUrl;
    this.answer = answer;
    this.changed = changed;
    this.queue = [];
    this.current = null;
    this.title = el.querySelector('[data-role="title"]');
    this.message = el.querySelector('[data-role="message"]');
    this.input = el.querySelector('[data-role="input"]');
    this.ok = el.querySelector('[data-role="ok"]');
    this.cancel = el.querySelector('[data-role="cancel"]');
    el.querySelector('form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.respond(true);
    });
    this.cancel.addEventListener('click', () => this.respond(false));
    el.addEventListener('cancel', (e) => {
      e.preventDefault();
      this.respond(this.current?.kind === 'alert');
    });
  }

  /** Queues a `dialog` message. */
  open(msg) {
    const kind = KINDS.includes(msg.kind) ? msg.kind : 'alert';
    const d = { id: msg.id, kind, message: String(msg.message ?? ''), default: String(msg.default ?? '') };
    if (this.current?.id === d.id || this.queue.some((q) => q.id === d.id)) return;
    this.queue.push(d);
    if (!this.current) this.next();
  }

  /** Handles `dialog_closed`. */
  closed(id) {
    this.queue = this.queue.filter((d) => d.id !== id);
    if (this.current?.id === id) this.hide();
  }

  /** Drops every dialog (session ended or re-attached). */
  reset() {
    this.queue = [];
    if (this.current) this.hide();
  }

  next() {
    const d = this.queue.shift();
    if (!d) return;
    this.current = d;
    this.el.dataset.kind = d.kind;
    this.title.textContent = dialogTitle(d.kind, this.pageUrl());
    this.message.textContent =
      d.kind === 'beforeunload' ? d.message || 'Changes you made may not be saved.' : d.message;
    this.input.hidden = d.kind !== 'prompt';
    this.input.value = d.default;
    this.ok.textContent = d.kind === 'beforeunload' ? 'Leave' : 'OK';
    this.cancel.textContent = d.kind === 'beforeunload' ? 'Stay' : 'Cancel';
    this.cancel.hidden = d.kind === 'alert';
    if (!this.el.open) this.el.showModal();
    if (d.kind === 'prompt') {
      this.input.focus();
      this.input.select();
    } else {
      this.ok.focus();
    }
    this.changed(d);
  }

  respond(accept) {
    const d = this.current;
    if (!d) return;
    const text = d.kind === 'prompt' && accept ? this.input.value : '';
    this.hide();
    this.answer({ id: d.id, accept, text });
  }

  hide() {
    this.current = null;
    if (this.el.open) this.el.close();
    this.changed(null);
    this.next();
  }
}

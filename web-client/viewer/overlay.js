// Full-viewport overlay for states where the page cannot be used:
// starting, reconnecting, server full, refused start URL, session ended.
// One overlay at a time; each call to `show` replaces the previous content.

export class Overlay {
  /** @param {HTMLElement} el the overlay container (see index.html) */
  constructor(el) {
    this.el = el;
    this.title = el.querySelector('[data-role="title"]');
    this.message = el.querySelector('[data-role="message"]');
    this.detail = el.querySelector('[data-role="detail"]');
    this.actions = el.querySelector('[data-role="actions"]');
    this.spinner = el.querySelector('[data-role="spinner"]');
  }

  /**
   * @param {object} o
   * @param {string} o.kind a name for styling and tests (`data-kind`)
   * @param {string} o.title
   * @param {string} [o.message]
   * @param {string} [o.detail] secondary text (server wording, attempt count)
   * @param {boolean} [o.spinner]
   * @param {boolean} [o.dim] translucent: the last picture stays visible below
   * @param {{label: string, action: string, primary?: boolean, onClick: Function}[]} [o.actions]
   *   `action` becomes the button's `data-action` (stable hook for tests and styling)
   */
  show({ kind, title, message = '', detail = '', spinner = false, dim = false, actions = [] }) {
    const fresh = this.el.hidden || this.el.dataset.kind !== kind;
    const hadFocus = !this.el.hidden && this.el.contains(document.activeElement);
    this.el.dataset.kind = kind;
    this.el.classList.toggle('overlay-dim', dim);
    this.title.textContent = title;
    this.message.textContent = message;
    this.message.hidden = !message;
    this.detail.textContent = detail;
    this.detail.hidden = !detail;
    this.spinner.hidden = !spinner;
    this.actions.replaceChildren(
      ...actions.map((a) => {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = a.primary ? 'btn btn-primary' : 'btn';
        b.textContent = a.label;
        b.dataset.action = a.action;
        b.addEventListener('click', () => a.onClick());
        return b;
      }),
    );
    this.el.hidden = false;
    // Focus moves to the main action when the overlay appears or changes meaning, or when
    // its rebuilt buttons dropped the focus; updates of the same overlay never steal it.
    if (fresh || hadFocus) {
      const primary = this.actions.querySelector('.btn-primary') || this.actions.querySelector('button');
      if (primary) primary.focus();
    }
  }

  /** Changes only the detail line (e.g. a reconnect countdown). */
  setDetail(text) {
    this.detail.textContent = text;
    this.detail.hidden = !text;
  }

  /** The overlay's current kind, or null when hidden. */
  get kind() {
    return this.el.hidden ? null : this.el.dataset.kind;
  }

  hide() {
    this.el.hidden = true;
    delete this.el.dataset.kind;
  }
}

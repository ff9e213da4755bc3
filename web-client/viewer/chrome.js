// The browser-like chrome around the canvas: tab strip, toolbar (back,
// forward, reload/stop, address bar, connection status, session menu) and the
// loading bar. It renders from the shared state and turns clicks into
// commands; it never talks to the socket itself.

const STATUS_LABELS = {
  connecting: 'Connecting\u2026',
  connected: 'Connected',
  reconnecting: 'Reconnecting\u2026',
  ended: 'Session ended',
  error: 'Not connected',
};

/** The text of a tab button: its title, else its host, else "New tab". */
export function tabLabel(tab) {
  if (tab.title && tab.title.trim()) return tab.title.trim();
  try {
    const u = new URL(tab.url);
    if (u.host) return u.host;
  } catch {
    // Not a URL (about:blank...): show it as is.
  }
  return tab.url || 'New tab';
}

export class BrowserChrome {
  /**
   * @param {object} commands `back`, `forward`, `reload`, `stop`, `navigate(url)`,
   *   `switchTab(id)`, `closeTab(id)`, `endSession()`, `signOut()`, `focusViewer()`
   */
  constructor(commands) {
    this.commands = commands;
    const $ = (id) => document.getElementById(id);
    this.back = $('btn-back');
    this.forward = $('btn-forward');
    this.reload = $('btn-reload');
    this.form = $('address-form');
    this.address = $('address');
    this.secure = $('address-secure');
    this.status = $('status');
    this.statusLabel = $('status-label');
    this.loadbar = $('loadbar');
    this.tabstrip = $('tabstrip');
    this.menuButton = $('btn-menu');
    this.menu = $('menu');
    this.menuUser = $('menu-user');
    this.menuSignOut = $('menu-signout');
    this.menuAccount = $('menu-account');
    this.menuFullscreen = $('menu-fullscreen');
    this.editing = false;
    this.justFocused = false;
    this.url = '';
    this.loading = false;
    this.tabsKey = '';
    this.bind();
  }

  bind() {
    const c = this.commands;
    this.back.addEventListener('click', () => c.back());
    this.forward.addEventListener('click', () => c.forward());
    this.reload.addEventListener('click', () => (this.loading ? c.stop() : c.reload()));

    const a = this.address;
    a.addEventListener('focus', () => {
      a.select();
      this.justFocused = true;
    });
    // A click that focuses the field would collapse the selection on mouseup; keep "select all".
    a.addEventListener('mouseup', (e) => {
      if (this.justFocused) e.preventDefault();
      this.justFocused = false;
    });
    a.addEventListener('input', () => {
      this.editing = true;
    });
    a.addEventListener('blur', () => {
      this.justFocused = false;
      if (!this.editing) a.value = this.url;
    });
    a.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape') return;
      e.preventDefault();
      if (this.editing || a.value !== this.url) {
        this.editing = false;
        a.value = this.url;
        a.select();
      } else {
        c.focusViewer();
      }
    });
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      const value = a.value.trim();
      if (!value) return;
      this.editing = false;
      c.navigate(value);
      c.focusViewer();
    });

    this.menuButton.addEventListener('click', () => this.toggleMenu());
    this.menu.addEventListener('click', (e) => {
      const item = e.target.closest('[data-action]');
      if (!item) return;
      this.closeMenu();
      const action = item.dataset.action;
      if (action === 'end') c.endSession();
      else if (action === 'fullscreen') toggleFullscreen();
      else if (action === 'signout') c.signOut();
      else if (action === 'account') window.open('/account', '_blank', 'noopener');
    });
    this.menu.addEventListener('keydown', (e) => this.menuKey(e));
    document.addEventListener('mousedown', (e) => {
      if (!this.menu.hidden && !this.menu.contains(e.target) && !this.menuButton.contains(e.target)) this.closeMenu();
    });
    document.addEventListener('fullscreenchange', () => {
      this.menuFullscreen.textContent = document.fullscreenElement ? 'Exit full screen' : 'Full screen';
    });

    this.tabstrip.addEventListener('click', (e) => {
      const close = e.target.closest('[data-close]');
      if (close) {
        c.closeTab(Number(close.dataset.close));
        return;
      }
      const tab = e.target.closest('[data-tab]');
      if (tab) c.switchTab(Number(tab.dataset.tab));
    });
    this.tabstrip.addEventListener('auxclick', (e) => {
      const tab = e.target.closest('[data-tab]');
      if (tab && e.button === 1) {
        e.preventDefault();
        c.closeTab(Number(tab.dataset.tab));
      }
    });
    this.tabstrip.addEventListener('keydown', (e) => {
      const tab = e.target.closest('[data-tab]');
      if (!tab) return;
      if (e.key === 'Delete') c.closeTab(Number(tab.dataset.tab));
      if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
        const tabs = [...this.tabstrip.querySelectorAll('[data-tab]')];
        const i = tabs.indexOf(tab) + (e.key === 'ArrowRight' ? 1 : -1);
        tabs[(i + tabs.length) % tabs.length]?.focus();
        e.preventDefault();
      }
    });
  }

  /** Puts the caret in the address bar with everything selected. */
  focusAddress() {
    this.address.focus();
    this.address.select();
  }

  /** Shows the signed-in user (and a sign-out item when the login is the server's own). */
  setUser(me) {
    if (!me) return;
    this.menuUser.textContent = me.user ? `Signed in as ${me.user}` : '';
    this.menuUser.hidden = !me.user;
    this.menuSignOut.hidden = me.auth !== 'static';
    this.menuAccount.hidden = !me.can_change_password;
  }

  toggleMenu() {
    if (this.menu.hidden) {
      this.menu.hidden = false;
      this.menuButton.setAttribute('aria-expanded', 'true');
      this.menu.querySelector('[role="menuitem"]:not([hidden])')?.focus();
    } else {
      this.closeMenu();
    }
  }

  closeMenu() {
    if (this.menu.hidden) return;
    this.menu.hidden = true;
    this.menuButton.setAttribute('aria-expanded', 'false');
  }

  menuKey(e) {
    const items = [...this.menu.querySelectorAll('[role="menuitem"]:not([hidden])')];
    const i = items.indexOf(document.activeElement);
    if (e.key === 'Escape') {
      e.preventDefault();
      this.closeMenu();
      this.menuButton.focus();
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = i + (e.key === 'ArrowDown' ? 1 : -1);
      items[(next + items.length) % items.length]?.focus();
    } else if (e.key === 'Tab') {
      this.closeMenu();
    }
  }

  /** Renders everything from `state` (cheap; called on every state change). */
  render(state) {
    this.back.disabled = !state.connected || !state.canBack;
    this.forward.disabled = !state.connected || !state.canForward;
    this.reload.disabled = !state.connected;
    this.address.disabled = state.connection === 'ended';

    if (state.loading !== this.loading) {
      this.loading = state.loading;
      this.reload.dataset.mode = state.loading ? 'stop' : 'reload';
      const label = state.loading ? 'Stop loading this page' : 'Reload this page';
      this.reload.setAttribute('aria-label', label);
      this.reload.title = state.loading ? 'Stop loading' : 'Reload (F5)';
      this.loadbar.classList.remove('loadbar-done');
      if (state.loading) {
        this.loadbar.classList.add('loadbar-active');
      } else if (this.loadbar.classList.contains('loadbar-active')) {
        this.loadbar.classList.remove('loadbar-active');
        void this.loadbar.offsetWidth;
        this.loadbar.classList.add('loadbar-done');
      }
    }

    if (state.url !== this.url) {
      this.url = state.url;
      const focused = document.activeElement === this.address;
      if (!(focused && this.editing)) {
        this.editing = false;
        this.address.value = state.url;
        if (focused) this.address.select();
      }
    }
    const scheme = schemeOf(state.url);
    if (this.secure.dataset.scheme !== scheme) {
      this.secure.dataset.scheme = scheme;
      const label = scheme === 'https' ? 'Secure connection (HTTPS)' : scheme === 'http' ? 'Not secure (HTTP)' : '';
      this.secure.title = label;
      this.secure.setAttribute('aria-label', label);
      this.secure.setAttribute('role', label ? 'img' : 'presentation');
    }

    const title = state.title && state.title.trim() ? state.title.trim() : state.url || 'isolator';
    if (document.title !== title) document.title = title;

    this.status.dataset.status = state.connection;
    this.statusLabel.textContent = STATUS_LABELS[state.connection] || state.connection;
    this.status.title = `Connection: ${this.statusLabel.textContent}`;

    this.renderTabs(state);
  }

  renderTabs(state) {
    const key = JSON.stringify([state.activeTab, state.tabs]);
    if (key === this.tabsKey) return;
    this.tabsKey = key;
    const show = state.tabs.length > 1;
    this.tabstrip.hidden = !show;
    document.body.classList.toggle('has-tabs', show);
    if (!show) {
      this.tabstrip.replaceChildren();
      return;
    }
    const hadFocus = this.tabstrip.contains(document.activeElement);
    this.tabstrip.replaceChildren(
      ...state.tabs.map((t) => {
        const active = t.id === state.activeTab;
        const el = document.createElement('div');
        el.className = active ? 'tab tab-active' : 'tab';
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'tab-main';
        b.setAttribute('role', 'tab');
        b.setAttribute('aria-selected', String(active));
        b.tabIndex = active ? 0 : -1;
        b.dataset.tab = String(t.id);
        const label = tabLabel(t);
        b.textContent = label;
        b.dataset.pageText = '';
        b.title = t.url ? `${label}\n${t.url}` : label;
        const x = document.createElement('button');
        x.type = 'button';
        x.className = 'tab-close';
        x.dataset.close = String(t.id);
        x.setAttribute('aria-label', `Close tab ${label}`);
        x.title = 'Close tab';
        x.textContent = '\u00D7';
        el.append(b, x);
        return el;
      }),
    );
    if (hadFocus) this.tabstrip.querySelector('.tab-active .tab-main')?.focus();
  }
}

function schemeOf(url) {
  if (url.startsWith('https:')) return 'https';
  if (url.startsWith('http:')) return 'http';
  return 'other';
}

function toggleFullscreen() {
  if (document.fullscreenElement) {
    document.exitFullscreen().catch(() => {});
  } else {
    document.documentElement.requestFullscreen().catch(() => {});
  }
}

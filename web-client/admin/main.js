// The admin pages: tabs (by URL hash), the policy version badge, and the
// reload after a stale write. Each section lives in its own module.

import { api, onVersion, policy } from './api.js';
import * as apps from './apps.js';
import * as bench from './bench.js';
import * as fingerprints from './fingerprints.js';
import * as history from './history.js';
import { flash, initNotify, onReload } from './notify.js';
import * as profiles from './profiles.js';
import * as rules from './rules.js';
import * as sessions from './sessions.js';
import * as users from './users.js';

const TABS = { rules, apps, profiles, fingerprints, bench, sessions, users, history };

function current() {
  const name = location.hash.replace('#', '');
  return name in TABS ? name : 'rules';
}

async function show() {
  const name = current();
  for (const t of Object.keys(TABS)) {
    document.getElementById(`tab-${t}`).hidden = t !== name;
    const link = document.querySelector(`nav a[data-tab="${t}"]`);
    if (t === name) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
  }
  const mod = TABS[name];
  if (mod.load) {
    try { await mod.load(); } catch (err) { flash(err.message); }
  }
}

async function reloadAll() {
  await api('GET', '/api/v1/document');
  await show();
}

async function start() {
  initNotify();
  onReload(reloadAll);
  onVersion((v) => { document.getElementById('version').textContent = `policy v${v}`; });
  let me = null;
  try {
    me = await (await fetch('/api/me', { credentials: 'same-origin' })).json();
    document.getElementById('whoami').textContent = me.user ? `signed in as ${me.user}` : '';
  } catch { /* the API calls below report problems */ }
  rules.init();
  apps.init();
  profiles.init();
  fingerprints.init();
  bench.init(me);
  sessions.init();
  users.init(me);
  history.init(reloadAll);
  window.addEventListener('hashchange', show);
  await reloadAll();
  window.__admin = { ready: true, policy };
}

start();

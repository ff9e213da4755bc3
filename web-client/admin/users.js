// Users and admin API tokens: list, add, change, disable, remove; make a
// token (shown once) and remove one. In a cluster they live in its database;
// on a single server the config file's are listed read-only.

import { api, list } from './api.js';
import { openEditor } from './editor.js';
import { el } from './forms.js';
import { flash } from './notify.js';

let me = null;

const when = (secs) => (secs ? new Date(secs * 1000).toLocaleString() : '');

/** A button that asks once more before doing `act`. */
function confirmButton(label, ariaLabel, act) {
  const b = el('button', { type: 'button', class: 'danger', text: label, 'aria-label': ariaLabel });
  b.addEventListener('click', async () => {
    if (b.dataset.confirm !== '1') {
      b.dataset.confirm = '1';
      b.textContent = `Click again: ${label.toLowerCase()}`;
      return;
    }
    try {
      await act();
    } catch (err) {
      flash(err.message);
    }
    await load();
  });
  return b;
}

function userActions(u, managed) {
  if (u.source !== 'database' || managed !== 'database') {
    return el('small', { class: 'muted', text: 'config file' });
  }
  return el('button', {
    type: 'button',
    text: 'Edit',
    'aria-label': `Edit ${u.name}`,
    onclick: () => editUser(u),
  });
}

/** The edit dialog of a database user: only what was changed is sent. */
function editUser(u) {
  const path = `/api/v1/users/${encodeURIComponent(u.name)}`;
  const own = me && me.user === u.name;
  const fields = [
    { name: 'password', label: 'New password', type: 'password', help: 'At least 12 characters; leave empty to keep the current one.' },
    { name: 'groups', label: 'Groups', value: u.groups.join(', '), help: 'Separated by commas.' },
  ];
  if (!own) {
    fields.push({ name: 'admin', label: 'Admin', type: 'checkbox', value: u.admin });
    fields.push({ name: 'disabled', label: 'Disabled (cannot sign in; live sessions end)', type: 'checkbox', value: u.disabled });
  }
  openEditor({
    title: `User ${u.name}`,
    fields,
    prefix: '',
    save: async (v) => {
      const body = {};
      if (v.password) body.password = v.password;
      const groups = list(v.groups);
      if (groups.join(',') !== u.groups.join(',')) body.groups = groups;
      if (!own && v.admin !== u.admin) body.admin = v.admin;
      if (!own && v.disabled !== u.disabled) body.disabled = v.disabled;
      if (!Object.keys(body).length) return;
      await api('PATCH', path, { body });
      flash(`${u.name} is changed and signed out everywhere.`);
      await load();
    },
    remove: own ? undefined : async () => {
      await api('DELETE', path);
      flash(`${u.name} is removed: signed out, sessions ended.`);
      await load();
    },
  });
}

function tokenActions(t, managed) {
  if (t.source !== 'database' || managed !== 'database') {
    return el('small', { class: 'muted', text: 'config file' });
  }
  return confirmButton('Remove', `Remove token ${t.name}`, async () => {
    await api('DELETE', `/api/v1/tokens/${encodeURIComponent(t.name)}`);
    flash(`Token ${t.name} no longer works.`);
  });
}

export async function load() {
  const [{ managed, auth_mode: mode, users }, { tokens }] = await Promise.all([
    api('GET', '/api/v1/users'),
    api('GET', '/api/v1/tokens'),
  ]);
  const shared = managed === 'database';
  document.getElementById('users-config').hidden = shared;
  const modeNote = document.getElementById('users-mode');
  modeNote.hidden = !shared || mode === 'static';
  modeNote.textContent = `auth.mode is "${mode}": password users sign in only with auth.mode = "static".`;
  document.getElementById('user-form').hidden = !shared || mode !== 'static';
  document.getElementById('token-form').hidden = !shared;
  document.getElementById('users-body').replaceChildren(...users.map((u) => el('tr', { 'data-user': u.name },
    el('td', {}, el('div', { text: u.name }), el('small', { class: 'muted', text: u.source === 'config' ? 'config file' : `added by ${u.created_by}` })),
    el('td', { text: u.groups.join(', ') }),
    el('td', { text: u.admin ? 'admin' : 'user' }),
    el('td', {}, el('span', { class: `pill ${u.disabled ? 'block' : 'allow'}`, text: u.disabled ? 'disabled' : 'active' })),
    el('td', { text: when(u.created_at) }),
    el('td', {}, userActions(u, managed)))));
  document.getElementById('users-empty').hidden = users.length > 0;
  document.getElementById('tokens-body').replaceChildren(...tokens.map((t) => el('tr', { 'data-token': t.name },
    el('td', {}, el('div', { text: t.name }), el('small', { class: 'muted', text: t.source === 'config' ? 'config file' : `api-token:${t.name}` })),
    el('td', { text: t.created_by || '' }),
    el('td', { text: when(t.created_at) }),
    el('td', { text: t.source === 'config' ? '' : (t.expires_at ? when(t.expires_at) : 'never') }),
    el('td', { text: when(t.last_used_at) }),
    el('td', {}, tokenActions(t, managed)))));
}

function showError(id, err) {
  const box = document.getElementById(id);
  box.textContent = err.field ? `${err.field}: ${err.message}` : err.message;
  box.hidden = false;
}

async function addUser(ev) {
  ev.preventDefault();
  document.getElementById('user-error').hidden = true;
  const body = {
    name: document.getElementById('user-name').value.trim(),
    password: document.getElementById('user-password').value,
    groups: list(document.getElementById('user-groups').value),
    admin: document.getElementById('user-admin').checked,
  };
  try {
    await api('POST', '/api/v1/users', { body });
    flash(`${body.name} can sign in now.`);
    ev.target.reset();
  } catch (err) {
    showError('user-error', err);
  }
  await load();
}

async function makeToken(ev) {
  ev.preventDefault();
  document.getElementById('token-error').hidden = true;
  const days = document.getElementById('token-days').value;
  const body = { name: document.getElementById('token-name').value.trim() };
  if (days) body.expires_in_days = Number(days);
  try {
    const made = await api('POST', '/api/v1/tokens', { body });
    document.getElementById('token-made-name').textContent = made.name;
    document.getElementById('token-made-value').textContent = made.token;
    document.getElementById('token-made').hidden = false;
    ev.target.reset();
  } catch (err) {
    showError('token-error', err);
  }
  await load();
}

export function init(who) {
  me = who;
  document.getElementById('user-form').addEventListener('submit', addUser);
  document.getElementById('token-form').addEventListener('submit', makeToken);
  document.getElementById('token-copy').addEventListener('click', async () => {
    const value = document.getElementById('token-made-value').textContent;
    try {
      await navigator.clipboard.writeText(value);
      flash('Copied.');
    } catch {
      flash('Select the token and copy it.');
    }
  });
}

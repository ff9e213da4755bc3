// Rules: the ordered list, drag (or ▲ ▼) to reorder, add and edit.

import { api, list } from './api.js';
import { openEditor } from './editor.js';
import { el } from './forms.js';
import { flash, handledConflict } from './notify.js';

const ACTIONS = ['copy', 'paste', 'upload', 'download', 'keyboard', 'print', 'submit', 'page'];
let rules = [];

function modeOf(setting) {
  if (!setting) return '';
  return typeof setting === 'string' ? setting : setting.mode;
}

function summary(rule) {
  const parts = [];
  for (const a of ACTIONS) {
    const m = modeOf(rule[a]);
    if (m) parts.push(`${a}: ${m}`);
  }
  if (rule.read_only) parts.unshift('read-only');
  return parts.join(', ') || 'sets nothing';
}

function who(rule) {
  const apps = rule.apps && rule.apps.length ? rule.apps.join(', ') : 'every app';
  const people = [...(rule.users || []), ...(rule.groups || []).map((g) => `group ${g}`)];
  return `${apps} · ${people.length ? people.join(', ') : 'everyone'}`;
}

function fields(rule) {
  const f = [
    { name: 'name', label: 'Name', value: rule.name },
    { name: 'description', label: 'Description', value: rule.description },
    { name: 'apps', label: 'Apps (comma-separated; empty: every app)', value: (rule.apps || []).join(', ') },
    { name: 'users', label: 'Users (comma-separated)', value: (rule.users || []).join(', ') },
    { name: 'groups', label: 'Groups (comma-separated; users and groups empty: everyone)', value: (rule.groups || []).join(', ') },
    { name: 'profiles', label: 'DLP profiles for "scan" (e.g. financial, pii)', value: (rule.profiles || []).join(', ') },
    { name: 'on_match', label: 'When a scan finds something', type: 'select', value: rule.on_match || '',
      options: [['', 'block (default)'], ['block', 'block'], ['audit', 'allow and record an incident']] },
  ];
  for (const a of ACTIONS) {
    f.push({ name: a, label: a, type: 'select', value: modeOf(rule[a]),
      options: [['', 'not set (later rules decide)'], ['allow', 'allow'], ['block', 'block'], ['scan', 'scan']] });
  }
  f.push({ name: 'read_only', label: 'Read-only (no paste, upload, typing or submit)', type: 'checkbox', value: rule.read_only });
  return f;
}

function fromForm(v, original) {
  const rule = { ...original, name: v.name.trim(), description: v.description };
  for (const k of ['apps', 'users', 'groups', 'profiles']) rule[k] = list(v[k]);
  if (v.on_match) rule.on_match = v.on_match; else delete rule.on_match;
  for (const a of ACTIONS) {
    const old = original[a];
    if (!v[a]) delete rule[a];
    else if (old && typeof old === 'object' && old.mode === v[a]) rule[a] = old;
    else rule[a] = v[a];
  }
  rule.read_only = v.read_only;
  return rule;
}

function edit(index) {
  const isNew = index == null;
  const original = isNew ? {} : rules[index];
  openEditor({
    title: isNew ? 'Add a rule' : `Edit rule ${original.name}`,
    fields: fields(original),
    prefix: `rules[${isNew ? rules.length : index}]`,
    save: async (v) => {
      const rule = fromForm(v, original);
      if (isNew) await api('POST', '/api/v1/rules', { body: rule, write: true });
      else await api('PUT', `/api/v1/rules/${encodeURIComponent(original.name)}`, { body: rule, write: true });
      flash(isNew ? `Rule ${rule.name} added.` : `Rule ${rule.name} saved.`);
      await load();
    },
    remove: isNew ? null : async () => {
      await api('DELETE', `/api/v1/rules/${encodeURIComponent(original.name)}`, { write: true });
      flash(`Rule ${original.name} deleted.`);
      await load();
    },
  });
}

async function move(from, to) {
  if (to < 0 || to >= rules.length || from === to) return;
  const names = rules.map((r) => r.name);
  const [name] = names.splice(from, 1);
  names.splice(to, 0, name);
  try {
    await api('PUT', '/api/v1/rule-order', { body: { order: names }, write: true });
    flash(`Moved ${name} to position ${to + 1}.`);
    await load();
    const btn = document.querySelector(`#rules-body tr[data-index="${to}"] .${from < to ? 'down' : 'up'}`)
      || document.querySelector(`#rules-body tr[data-index="${to}"] button`);
    if (btn) btn.focus();
  } catch (err) {
    if (!handledConflict(err)) flash(err.message);
  }
}

function render() {
  const body = document.getElementById('rules-body');
  body.replaceChildren(...rules.map((r, i) => {
    const row = el('tr', { 'data-index': i, 'data-name': r.name, draggable: 'true' },
      el('td', { class: 'order' },
        el('span', { class: 'grip', 'aria-hidden': 'true', text: '⠿' }),
        el('span', { class: 'pos', text: String(i + 1) }),
        el('button', { type: 'button', class: 'up', 'aria-label': `Move ${r.name} up`, disabled: i === 0, onclick: () => move(i, i - 1), text: '▲' }),
        el('button', { type: 'button', class: 'down', 'aria-label': `Move ${r.name} down`, disabled: i === rules.length - 1, onclick: () => move(i, i + 1), text: '▼' })),
      el('td', {}, el('b', { text: r.name }), r.description ? el('div', { class: 'muted', text: r.description }) : null),
      el('td', { text: who(r) }),
      el('td', { text: summary(r) }),
      el('td', {}, el('button', { type: 'button', class: 'edit', onclick: () => edit(i), text: 'Edit' })));
    row.addEventListener('dragstart', (e) => { e.dataTransfer.setData('text/plain', String(i)); row.classList.add('dragging'); });
    row.addEventListener('dragend', () => row.classList.remove('dragging'));
    row.addEventListener('dragover', (e) => { e.preventDefault(); row.classList.add('drop'); });
    row.addEventListener('dragleave', () => row.classList.remove('drop'));
    row.addEventListener('drop', (e) => {
      e.preventDefault();
      row.classList.remove('drop');
      const from = Number(e.dataTransfer.getData('text/plain'));
      if (Number.isInteger(from)) move(from, i);
    });
    return row;
  }));
  document.getElementById('rules-empty').hidden = rules.length > 0;
}

export async function load() {
  const data = await api('GET', '/api/v1/rules');
  rules = data.items;
  render();
}

export function init() {
  document.getElementById('rule-add').addEventListener('click', () => edit(null));
}

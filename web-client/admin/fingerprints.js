// Confidential documents (document fingerprinting): list, register, remove.

import { api } from './api.js';
import { el } from './forms.js';
import { flash } from './notify.js';

function removeButton(d) {
  const b = el('button', { type: 'button', class: 'danger', text: 'Remove', 'aria-label': `Remove ${d.name}` });
  b.addEventListener('click', async () => {
    if (b.dataset.confirm !== '1') {
      b.dataset.confirm = '1';
      b.textContent = 'Click again to remove';
      return;
    }
    try {
      await api('DELETE', `/api/v1/fingerprints/${d.id}`);
      flash(`${d.name} is no longer registered.`);
    } catch (err) {
      flash(err.message);
    }
    await load();
  });
  return b;
}

export async function load() {
  const { configured, documents } = await api('GET', '/api/v1/fingerprints');
  document.getElementById('fingerprints-off').hidden = configured;
  document.getElementById('fingerprints-form').hidden = !configured;
  document.getElementById('fingerprints-body').replaceChildren(...documents.map((d) => el('tr', { 'data-id': String(d.id) },
    el('td', { text: String(d.id) }),
    el('td', {}, el('div', { text: d.name }), d.background ? el('small', { class: 'muted', text: 'background' }) : ''),
    el('td', { text: String(d.words) }),
    el('td', { text: String(d.fingerprints) }),
    el('td', { text: new Date(d.added * 1000).toLocaleString() }),
    el('td', {}, removeButton(d)))));
  document.getElementById('fingerprints-empty').hidden = documents.length > 0;
}

async function register(ev) {
  ev.preventDefault();
  const error = document.getElementById('fingerprints-error');
  error.hidden = true;
  const files = document.getElementById('fingerprints-file').files;
  const body = new FormData();
  for (const f of files) body.append('file', f, f.name);
  if (document.getElementById('fingerprints-background').checked) body.append('background', 'true');
  try {
    const { documents } = await api('POST', '/api/v1/fingerprints', { body });
    flash(`Registered: ${documents.map((d) => d.name).join(', ')}.`);
    ev.target.reset();
  } catch (err) {
    error.textContent = err.message;
    error.hidden = false;
  }
  await load();
}

export function init() {
  document.getElementById('fingerprints-form').addEventListener('submit', register);
}

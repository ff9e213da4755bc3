// Live sessions, with terminate.

import { api } from './api.js';
import { el } from './forms.js';
import { flash } from './notify.js';

function terminateButton(s) {
  const b = el('button', { type: 'button', class: 'danger', text: 'Terminate', 'aria-label': `Terminate ${s.user}'s session` });
  b.addEventListener('click', async () => {
    if (b.dataset.confirm !== '1') {
      b.dataset.confirm = '1';
      b.textContent = 'Click again to end it';
      return;
    }
    try {
      await api('DELETE', `/api/v1/sessions/${encodeURIComponent(s.id)}`);
      flash(`${s.user}'s session was ended.`);
    } catch (err) {
      flash(err.message);
    }
    await load();
  });
  return b;
}

export async function load() {
  const { sessions } = await api('GET', '/api/v1/sessions');
  document.getElementById('sessions-body').replaceChildren(...sessions.map((s) => el('tr', { 'data-id': s.id },
    el('td', { text: s.user }),
    el('td', {}, el('div', { text: s.title || '(untitled)' }), el('small', { class: 'muted', text: s.url })),
    el('td', { text: new Date(s.started * 1000).toLocaleString() }),
    el('td', { text: String(s.tabs) }),
    el('td', { text: String(s.incidents) }),
    el('td', {}, terminateButton(s)))));
  document.getElementById('sessions-empty').hidden = sessions.length > 0;
}

export function init() {
  document.getElementById('sessions-refresh').addEventListener('click', load);
}

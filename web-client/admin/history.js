// Policy history, with rollback.

import { api, policy } from './api.js';
import { el } from './forms.js';
import { flash, handledConflict } from './notify.js';

let reloadAll = async () => {};

function rollbackButton(v) {
  const b = el('button', { type: 'button', text: 'Roll back to this', 'aria-label': `Roll back to version ${v.version}` });
  b.addEventListener('click', async () => {
    if (b.dataset.confirm !== '1') {
      b.dataset.confirm = '1';
      b.textContent = 'Click again to roll back';
      return;
    }
    try {
      const r = await api('POST', `/api/v1/history/${v.version}/rollback`, { write: true });
      flash(`Version ${v.version} is in force again (as version ${r.version}).`);
      await reloadAll();
    } catch (err) {
      if (!handledConflict(err)) flash(err.message);
    }
  });
  return b;
}

export async function load() {
  const h = await api('GET', '/api/v1/history');
  document.getElementById('history-body').replaceChildren(...h.versions.map((v) => el('tr', {},
    el('td', {}, el('b', { text: String(v.version) }), v.version === h.current_version ? el('span', { class: 'pill allow', text: 'in force' }) : null),
    el('td', { text: new Date(v.at).toLocaleString() }),
    el('td', { text: v.author }),
    el('td', {}, el('ul', {}, ...v.summary.map((s) => el('li', { text: s })))),
    el('td', {}, v.version === policy.version ? null : rollbackButton(v)))));
}

export function init(reload) {
  reloadAll = reload;
}

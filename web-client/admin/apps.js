// Apps: named sets of host patterns.

import { api, list } from './api.js';
import { openEditor } from './editor.js';
import { el } from './forms.js';
import { flash } from './notify.js';

let apps = [];

function edit(index) {
  const isNew = index == null;
  const original = isNew ? {} : apps[index];
  openEditor({
    title: isNew ? 'Add an app' : `Edit app ${original.name}`,
    prefix: `apps[${isNew ? apps.length : index}]`,
    fields: [
      { name: 'name', label: 'Name', value: original.name },
      { name: 'description', label: 'Description', value: original.description },
      { name: 'hosts', label: 'Hosts (comma-separated)', value: (original.hosts || []).join(', '),
        help: 'mail.example.com, *.example.com (subdomains), intranet:8443, example.com/finance' },
    ],
    save: async (v) => {
      const app = { ...original, name: v.name.trim(), description: v.description, hosts: list(v.hosts) };
      if (isNew) await api('POST', '/api/v1/apps', { body: app, write: true });
      else await api('PUT', `/api/v1/apps/${encodeURIComponent(original.name)}`, { body: app, write: true });
      flash(`App ${app.name} saved.`);
      await load();
    },
    remove: isNew ? null : async () => {
      await api('DELETE', `/api/v1/apps/${encodeURIComponent(original.name)}`, { write: true });
      flash(`App ${original.name} deleted.`);
      await load();
    },
  });
}

export async function load() {
  apps = (await api('GET', '/api/v1/apps')).items;
  document.getElementById('apps-body').replaceChildren(...apps.map((a, i) => el('tr', {},
    el('td', {}, el('b', { text: a.name }), a.description ? el('div', { class: 'muted', text: a.description }) : null),
    el('td', { text: a.hosts.join(', ') }),
    el('td', {}, el('button', { type: 'button', onclick: () => edit(i), text: 'Edit' })))));
}

export function init() {
  document.getElementById('app-add').addEventListener('click', () => edit(null));
}

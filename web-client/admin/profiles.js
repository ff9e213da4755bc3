// DLP profiles and custom detectors.

import { api, list } from './api.js';
import { openEditor } from './editor.js';
import { el } from './forms.js';
import { flash } from './notify.js';

let profiles = [];
let detectors = [];
const LEVELS = [['', 'default'], ['low', 'low'], ['medium', 'medium'], ['high', 'high']];

function editProfile(index) {
  const isNew = index == null;
  const original = isNew ? {} : profiles[index];
  openEditor({
    title: isNew ? 'Add a profile' : `Edit profile ${original.id}`,
    prefix: `profiles[${isNew ? profiles.length : index}]`,
    fields: [
      { name: 'id', label: 'Id', value: original.id },
      { name: 'description', label: 'Description', value: original.description },
      { name: 'detectors', label: 'Detectors (comma-separated ids, predefined or custom)', value: (original.detectors || []).join(', ') },
      { name: 'min_confidence', label: 'Ignore findings below', type: 'select', options: LEVELS, value: original.min_confidence || '' },
      { name: 'min_matches', label: 'Findings needed to fire (default 1)', type: 'number', value: original.min_matches ?? '' },
      { name: 'allow', label: 'Never report (comma-separated values, or re:<regex>)', value: (original.allow || []).join(', ') },
    ],
    save: async (v) => {
      const p = { ...original, id: v.id.trim(), description: v.description, detectors: list(v.detectors), allow: list(v.allow) };
      if (v.min_confidence) p.min_confidence = v.min_confidence; else delete p.min_confidence;
      if (v.min_matches !== '') p.min_matches = Number(v.min_matches); else delete p.min_matches;
      if (isNew) await api('POST', '/api/v1/profiles', { body: p, write: true });
      else await api('PUT', `/api/v1/profiles/${encodeURIComponent(original.id)}`, { body: p, write: true });
      flash(`Profile ${p.id} saved.`);
      await load();
    },
    remove: isNew ? null : async () => {
      await api('DELETE', `/api/v1/profiles/${encodeURIComponent(original.id)}`, { write: true });
      flash(`Profile ${original.id} deleted.`);
      await load();
    },
  });
}

function editDetector(index) {
  const isNew = index == null;
  const original = isNew ? { kind: 'regex' } : detectors[index];
  openEditor({
    title: isNew ? 'Add a detector' : `Edit detector ${original.id}`,
    prefix: `detectors[${isNew ? detectors.length : index}]`,
    fields: [
      { name: 'id', label: 'Id', value: original.id },
      { name: 'description', label: 'Description', value: original.description },
      { name: 'kind', label: 'Kind', type: 'select', value: original.kind,
        options: [['regex', 'regular expression'], ['keywords', 'keywords'], ['exact_data', 'exact data (CSV)'], ['label', 'sensitivity label']] },
      { name: 'pattern', label: 'Pattern (regex)', value: original.pattern },
      { name: 'words', label: 'Words or phrases (keywords, comma-separated)', value: (original.words || []).join(', ') },
      { name: 'csv', label: 'CSV file (exact data, a name in the policy data directory)', value: original.csv },
      { name: 'names', label: 'Label names or ids (sensitivity label, comma-separated, * for any characters)', value: (original.names || []).join(', ') },
      { name: 'context', label: 'Context words that raise confidence (comma-separated)', value: (original.context || []).join(', ') },
      { name: 'confidence', label: 'Confidence of a bare match', type: 'select', options: LEVELS, value: original.confidence || '' },
    ],
    save: async (v) => {
      const d = { ...original, id: v.id.trim(), description: v.description, kind: v.kind,
        words: list(v.words), names: list(v.names), context: list(v.context) };
      for (const k of ['pattern', 'csv', 'confidence']) { if (v[k]) d[k] = v[k]; else delete d[k]; }
      if (isNew) await api('POST', '/api/v1/detectors', { body: d, write: true });
      else await api('PUT', `/api/v1/detectors/${encodeURIComponent(original.id)}`, { body: d, write: true });
      flash(`Detector ${d.id} saved.`);
      await load();
    },
    remove: isNew ? null : async () => {
      await api('DELETE', `/api/v1/detectors/${encodeURIComponent(original.id)}`, { write: true });
      flash(`Detector ${original.id} deleted.`);
      await load();
    },
  });
}

export async function load() {
  profiles = (await api('GET', '/api/v1/profiles')).items;
  detectors = (await api('GET', '/api/v1/detectors')).items;
  document.getElementById('profiles-body').replaceChildren(...profiles.map((p, i) => el('tr', {},
    el('td', {}, el('b', { text: p.id }), p.description ? el('div', { class: 'muted', text: p.description }) : null),
    el('td', { text: p.detectors.join(', ') }),
    el('td', { text: `${p.min_matches || 1} finding(s), confidence ≥ ${p.min_confidence || 'low'}` }),
    el('td', {}, el('button', { type: 'button', onclick: () => editProfile(i), text: 'Edit' })))));
  document.getElementById('detectors-body').replaceChildren(...detectors.map((d, i) => el('tr', {},
    el('td', {}, el('b', { text: d.id }), d.description ? el('div', { class: 'muted', text: d.description }) : null),
    el('td', { text: d.kind }),
    el('td', { text: d.pattern || (d.words || []).join(', ') || (d.names || []).join(', ') || d.csv || '' }),
    el('td', {}, el('button', { type: 'button', onclick: () => editDetector(i), text: 'Edit' })))));
}

export function init() {
  document.getElementById('profile-add').addEventListener('click', () => editProfile(null));
  document.getElementById('detector-add').addEventListener('click', () => editDetector(null));
}

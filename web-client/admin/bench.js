// The test bench: what the gates would do with a sample.

import { api, list } from './api.js';
import { clearErrors, el, showProblems } from './forms.js';

async function run(ev) {
  ev.preventDefault();
  const form = ev.target;
  clearErrors(form);
  const error = document.getElementById('bench-error');
  const file = document.getElementById('bench-file').files[0];
  let body;
  if (file) {
    body = new FormData();
    for (const k of ['user', 'groups', 'url', 'action']) body.append(k, form.elements[k].value);
    body.append('file', file, file.name);
  } else {
    body = {
      user: form.elements.user.value,
      groups: list(form.elements.groups.value),
      url: form.elements.url.value,
      action: form.elements.action.value,
      text: form.elements.text.value,
    };
  }
  const result = document.getElementById('bench-result');
  try {
    show(await api('POST', '/api/v1/test', { body }));
  } catch (err) {
    result.hidden = true;
    showProblems(form, err.problems && err.problems.length ? err.problems : [{ field: err.field, message: err.message }], '', error);
  }
}

function show(r) {
  const v = r.verdict;
  const outcome = document.getElementById('bench-outcome');
  outcome.textContent = v.outcome;
  outcome.className = `pill ${v.outcome}`;
  document.getElementById('bench-reason').textContent = v.reason;
  document.getElementById('bench-app').textContent = r.decision.app;
  document.getElementById('bench-rule').textContent = r.decision.rule.name;
  document.getElementById('bench-detectors').textContent = v.detectors.length ? v.detectors.join(', ') : 'none';
  document.getElementById('bench-evidence').replaceChildren(
    ...(v.evidence.length ? v.evidence : ['none']).map((e) => el('li', {}, el('code', { text: e }))));
  document.getElementById('bench-explain').replaceChildren(...r.decision.explain.map((line) => el('li', { text: line })));
  document.getElementById('bench-result').hidden = false;
}

export function init(me) {
  // Each field gets a place for its own error message.
  const form = document.getElementById('bench-form');
  for (const name of ['user', 'groups', 'url', 'action', 'text', 'file']) {
    const label = form.elements[name].closest('label');
    label.dataset.field = name;
    label.append(el('p', { class: 'field-error', role: 'alert', hidden: true }));
  }
  const user = document.getElementById('bench-user');
  if (!user.value && me) user.value = me.user;
  document.getElementById('bench-form').addEventListener('submit', run);
}

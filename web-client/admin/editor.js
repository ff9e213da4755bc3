// The edit dialog shared by apps, rules, profiles and detectors.

import { clearErrors, field, showProblems, values } from './forms.js';
import { handledConflict } from './notify.js';

const dialog = () => document.getElementById('editor');

/**
 * Opens the editor. `fields`: specs for forms.field; `prefix`: the item's
 * document path (`rules[2]`) for placing errors; `save(values)` and
 * `remove()` return promises and throw ApiError.
 */
export function openEditor({ title, fields, prefix, save, remove }) {
  const d = dialog();
  const form = document.getElementById('editor-form');
  document.getElementById('editor-title').textContent = title;
  const box = document.getElementById('editor-fields');
  box.replaceChildren(...fields.map(field));
  clearErrors(form);
  const error = document.getElementById('editor-error');
  const del = document.getElementById('editor-delete');
  del.hidden = !remove;
  const fail = (err) => {
    if (handledConflict(err)) { d.close(); return; }
    showProblems(form, err.problems && err.problems.length ? err.problems : [{ field: err.field, message: err.message }], prefix, error);
  };
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    try {
      await save(values(form));
      d.close();
    } catch (err) { fail(err); }
  };
  del.onclick = async () => {
    if (del.dataset.confirm !== '1') {
      del.dataset.confirm = '1';
      del.textContent = 'Click again to delete';
      return;
    }
    clearErrors(form);
    try {
      await remove();
      d.close();
    } catch (err) { fail(err); }
  };
  del.dataset.confirm = '';
  del.textContent = 'Delete';
  document.getElementById('editor-cancel').onclick = () => d.close();
  d.showModal();
  const first = box.querySelector('input, select, textarea');
  if (first) first.focus();
}

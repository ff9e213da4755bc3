// Form helpers: build labelled fields, read them back, and show the API's
// problems next to the field they name.

/** Creates an element with attributes and children. */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, '');
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

/**
 * A labelled field. `spec`: {name, label, type: text|textarea|select|checkbox|number,
 * value, options, help}. The input's `name` is the document field it edits.
 */
export function field(spec) {
  const id = `f-${spec.name}`;
  let input;
  if (spec.type === 'textarea') {
    input = el('textarea', { id, name: spec.name, rows: spec.rows || 3 });
    input.value = spec.value ?? '';
  } else if (spec.type === 'select') {
    input = el('select', { id, name: spec.name });
    for (const [value, label] of spec.options) {
      input.append(el('option', { value, text: label }));
    }
    input.value = spec.value ?? '';
  } else if (spec.type === 'checkbox') {
    input = el('input', { id, name: spec.name, type: 'checkbox' });
    input.checked = !!spec.value;
  } else {
    input = el('input', { id, name: spec.name, type: spec.type || 'text', autocomplete: 'off' });
    input.value = spec.value ?? '';
  }
  const wrap = el('div', { class: `field field-${spec.type || 'text'}`, 'data-field': spec.name });
  wrap.append(el('label', { for: id, text: spec.label }), input);
  if (spec.help) wrap.append(el('small', { class: 'muted', text: spec.help }));
  wrap.append(el('p', { class: 'field-error', role: 'alert', hidden: true }));
  return wrap;
}

/** Removes every error shown in `form`. */
export function clearErrors(form) {
  for (const p of form.querySelectorAll('.field-error, .form-error')) {
    p.hidden = true;
    p.textContent = '';
  }
  for (const f of form.querySelectorAll('.invalid')) f.classList.remove('invalid');
}

/**
 * Shows `problems` ({field, message}) next to their fields. A problem's field
 * is a document path (`rules[2].paste.profiles[0]`); `prefix` (`rules[2]`)
 * is the item being edited. Problems with no field here go to the form's box.
 */
export function showProblems(form, problems, prefix, fallback) {
  const rest = [];
  for (const p of problems) {
    let path = p.field || '';
    const own = prefix && (path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`));
    path = own ? path.slice(prefix.length).replace(/^\./, '') : '';
    const name = prefix ? path.split(/[.[]/)[0] : (p.field || '').split(/[.[]/)[0];
    const wrap = name && form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    const box = wrap && wrap.querySelector('.field-error');
    if (box) {
      box.textContent = box.hidden ? p.message : `${box.textContent} ${p.message}`;
      box.hidden = false;
      wrap.classList.add('invalid');
    } else {
      rest.push(p.field ? `${p.field}: ${p.message}` : p.message);
    }
  }
  if (rest.length || !problems.length) {
    fallback.textContent = rest.length ? rest.join(' · ') : 'The change was refused.';
    fallback.hidden = false;
  }
  const first = form.querySelector('.invalid input, .invalid select, .invalid textarea');
  if (first) first.focus();
}

/** The form's values by name (checkboxes as booleans). */
export function values(form) {
  const out = {};
  for (const e of form.querySelectorAll('input[name], select[name], textarea[name]')) {
    out[e.name] = e.type === 'checkbox' ? e.checked : e.value;
  }
  return out;
}

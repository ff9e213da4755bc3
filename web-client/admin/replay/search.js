// The recordings search page: sessions and incidents, each linking to the
// moment in the player.
import { getJSON, clock, when, size, el } from './api.js';

function ms(value) {
  return value ? String(new Date(value).getTime()) : '';
}

function query(form, extra) {
  const q = new URLSearchParams();
  for (const [k, v] of new FormData(form)) {
    if (!v) continue;
    if (k === 'from') q.set('from_ms', ms(v));
    else if (k === 'to') q.set('to_ms', ms(v));
    else q.set(k, v);
  }
  for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
  return q.toString();
}

function link(href) {
  const td = el('td');
  const a = el('a', 'Replay');
  a.href = href;
  td.append(a);
  return td;
}

function showError(err) {
  const p = document.getElementById('error');
  p.textContent = err.message;
  p.hidden = false;
}

// In a cluster whose database does not answer, a search covers this node's
// recordings only, and says so.
function showScope(data) {
  const p = document.getElementById('warning');
  p.textContent = data.warning || '';
  p.hidden = !data.warning;
}

async function searchSessions() {
  const form = document.getElementById('sessions-form');
  const body = document.querySelector('#sessions tbody');
  const data = await getJSON(`/api/v1/audit/sessions?${query(form, { limit: 200 })}`);
  showScope(data);
  body.replaceChildren(...data.sessions.map((s) => {
    const tr = el('tr');
    tr.dataset.session = s.id;
    const dur = s.end_ms ? clock(s.end_ms - s.start_ms) : 'live or crashed';
    tr.append(el('td', when(s.start_ms)), el('td', s.user), el('td', s.app || ''),
      el('td', s.client_addr), el('td', s.node || ''), el('td', dur), el('td', size(s.bytes)),
      el('td', s.end_reason || ''), link(s.replay));
    return tr;
  }));
}

async function searchIncidents() {
  const form = document.getElementById('incidents-form');
  const body = document.querySelector('#incidents tbody');
  const data = await getJSON(`/api/v1/audit/incidents?${query(form, { limit: 200 })}`);
  showScope(data);
  body.replaceChildren(...data.incidents.map((i) => {
    const tr = el('tr');
    tr.dataset.session = i.session;
    tr.append(el('td', when(i.wall_ms)), el('td', i.user), el('td', i.app || ''),
      el('td', i.gate), el('td', i.decision), el('td', (i.detectors || []).join(', ')),
      el('td', i.reason), link(i.replay));
    return tr;
  }));
}

function wire(id, fn) {
  document.getElementById(id).addEventListener('submit', (e) => {
    e.preventDefault();
    fn().catch(showError);
  });
}

wire('sessions-form', searchSessions);
wire('incidents-form', searchIncidents);
Promise.all([searchSessions(), searchIncidents()])
  .then(() => { window.__recordings = { loaded: true }; })
  .catch(showError);

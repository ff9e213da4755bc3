// The replay player: frames at their recorded times, a timeline with
// incident and navigation markers, the URL bar and the event list.
// Sources: the admin API (chunks seeked through the keyframe index) or an
// exported bundle opened from disk. State for tests: window.__replay.
import { getJSON, clock, describe, isIncident, el } from './api.js';
import { parseBundle, bundleSource } from './bundle.js';

const SPEEDS = [0.5, 1, 2, 4, 8];
const CHUNK_MS = 10000;

const $ = (id) => document.getElementById(id);
const state = {
  session: null, source: null, duration: 0, events: [], incidents: [],
  t: 0, playing: false, speed: 1, frameT: null, framesShown: 0,
  buffer: [], next: 0, bufTo: 0, more: false, fetching: null, epoch: 0,
  loaded: false, error: null,
};
window.__replay = state;

function showError(err) {
  state.error = err.message;
  const p = $('error');
  p.textContent = err.message;
  p.hidden = false;
}

let blobUrl = null;
function draw(t, frame) {
  const img = $('screen');
  if (frame.bytes) {
    if (blobUrl) URL.revokeObjectURL(blobUrl);
    blobUrl = URL.createObjectURL(new Blob([frame.bytes], { type: 'image/jpeg' }));
    img.src = blobUrl;
  } else {
    img.src = `data:image/jpeg;base64,${frame.jpeg}`;
  }
  $('no-frame').hidden = true;
  state.frameT = t;
  state.framesShown += 1;
}

// URL, title and current event come from the full event list, not the chunk.
function updateSide() {
  let url = '', title = '', current = -1;
  for (let i = 0; i < state.events.length; i++) {
    const r = state.events[i];
    if (r.t > state.t) break;
    current = i;
    if (r.event.type === 'navigation') { url = r.event.url; title = ''; }
    if (r.event.type === 'title') title = r.event.title;
  }
  $('url').textContent = url || 'about:blank';
  $('page-title').textContent = title;
  state.url = url;
  const items = $('events').children;
  if (state.currentItem != null && items[state.currentItem]) items[state.currentItem].classList.remove('current');
  if (current >= 0 && items[current]) {
    items[current].classList.add('current');
    if (state.playing) items[current].scrollIntoView({ block: 'nearest' });
  }
  state.currentItem = current;
  const pct = state.duration ? (100 * state.t) / state.duration : 0;
  $('played').style.width = `${pct}%`;
  $('head').style.left = `${pct}%`;
  $('clock').textContent = `${clock(state.t)} / ${clock(state.duration)}`;
}

async function fetchChunk(from) {
  return state.source.chunk(from, CHUNK_MS);
}

/** Shows the screen at `t` and buffers what follows. */
async function seek(t) {
  t = Math.max(0, Math.min(state.duration, Math.round(t)));
  const epoch = ++state.epoch;
  state.t = t;
  updateSide();
  const started = performance.now();
  const c = await fetchChunk(t);
  if (epoch !== state.epoch) return;
  if (c.frame) draw(c.frame.t, c.frame.event);
  state.buffer = c.records;
  state.next = 0;
  state.bufTo = c.to_ms;
  state.more = c.more;
  state.fetching = null;
  state.lastSeekMs = performance.now() - started;
  state.seeks = (state.seeks || 0) + 1;
}

function prefetch() {
  if (state.fetching || !state.more || state.bufTo - state.t > CHUNK_MS / 2) return;
  const epoch = state.epoch;
  const from = state.bufTo;
  state.fetching = fetchChunk(from).then((c) => {
    if (epoch !== state.epoch) return;
    state.buffer = state.buffer.slice(state.next).concat(c.records);
    state.next = 0;
    state.bufTo = c.to_ms;
    state.more = c.more;
    state.fetching = null;
  }).catch((e) => { state.fetching = null; showError(e); });
}

function apply() {
  let frame = null;
  while (state.next < state.buffer.length && state.buffer[state.next].t <= state.t) {
    const r = state.buffer[state.next++];
    if (r.event.type === 'frame') frame = r;
  }
  if (frame) draw(frame.t, frame.event);
}

let last = null;
function loop(now) {
  if (state.playing) {
    if (last != null) {
      const waiting = state.next >= state.buffer.length && state.more;
      if (!waiting) state.t = Math.min(state.duration, state.t + (now - last) * state.speed);
    }
    apply();
    prefetch();
    updateSide();
    if (state.t >= state.duration) setPlaying(false);
  }
  last = now;
  requestAnimationFrame(loop);
}

function setPlaying(on) {
  state.playing = on && state.t < state.duration;
  $('play').textContent = state.playing ? 'Pause' : 'Play';
}

function setSpeed(dir) {
  const i = SPEEDS.indexOf(state.speed) + dir;
  state.speed = SPEEDS[Math.max(0, Math.min(SPEEDS.length - 1, i))];
  $('speed').textContent = `${state.speed}x`;
}

function jumpIncident(dir) {
  const list = state.incidents;
  const target = dir > 0
    ? list.find((t) => t > state.t + 1)
    : [...list].reverse().find((t) => t < state.t - 500);
  if (target != null) seek(target).catch(showError);
}

function buildTimeline() {
  const tl = $('timeline');
  tl.querySelectorAll('.marker').forEach((m) => m.remove());
  for (const r of state.events) {
    const ev = r.event;
    let cls = null;
    if (ev.type === 'navigation') cls = 'marker navigation';
    else if (isIncident(ev)) cls = `marker incident ${ev.decision}`;
    if (!cls) continue;
    const m = el('div', null, cls);
    m.style.left = `${state.duration ? (100 * r.t) / state.duration : 0}%`;
    m.title = `${clock(r.t)} ${describe(ev)}`;
    tl.append(m);
  }
  const list = $('events');
  list.replaceChildren(...state.events.map((r) => {
    const ev = r.event;
    const li = el('li', `${clock(r.t)}  ${describe(ev)}`, ev.type === 'decision' ? `decision-${ev.decision}` : '');
    li.dataset.t = r.t;
    li.addEventListener('click', () => seek(r.t).catch(showError));
    return li;
  }));
}

function wire() {
  const tl = $('timeline');
  const fromPointer = (e) => {
    const box = tl.getBoundingClientRect();
    return ((e.clientX - box.left) / box.width) * state.duration;
  };
  // Press seeks; dragging moves the head and seeks again where it is released.
  let dragging = false, moved = false;
  tl.addEventListener('pointerdown', (e) => {
    dragging = true; moved = false;
    tl.setPointerCapture(e.pointerId);
    seek(fromPointer(e)).catch(showError);
  });
  tl.addEventListener('pointermove', (e) => {
    if (!dragging) return;
    moved = true;
    state.t = Math.max(0, Math.min(state.duration, fromPointer(e)));
    updateSide();
  });
  tl.addEventListener('pointerup', (e) => {
    if (dragging && moved) seek(fromPointer(e)).catch(showError);
    dragging = false;
  });
  $('play').addEventListener('click', () => setPlaying(!state.playing));
  $('faster').addEventListener('click', () => setSpeed(1));
  $('slower').addEventListener('click', () => setSpeed(-1));
  $('next-incident').addEventListener('click', () => jumpIncident(1));
  $('prev-incident').addEventListener('click', () => jumpIncident(-1));
  document.addEventListener('keydown', (e) => {
    if (e.target instanceof HTMLInputElement) return;
    const step = e.shiftKey ? 30000 : 5000;
    if (e.key === ' ') setPlaying(!state.playing);
    else if (e.key === 'ArrowRight') seek(state.t + step).catch(showError);
    else if (e.key === 'ArrowLeft') seek(state.t - step).catch(showError);
    else if (e.key === 'n') jumpIncident(1);
    else if (e.key === 'p') jumpIncident(-1);
    else if (e.key === '+' || e.key === '=') setSpeed(1);
    else if (e.key === '-') setSpeed(-1);
    else return;
    e.preventDefault();
  });
  $('bundle').addEventListener('change', async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    try {
      const parsed = parseBundle(await file.arrayBuffer());
      const m = parsed.manifest;
      await load({
        session: m.session,
        source: bundleSource(parsed),
        events: parsed.events,
        duration: parsed.duration,
        verify: `bundle: ${m.status}`,
        verifyClass: m.status,
      }, 0);
    } catch (err) { showError(err); }
  });
  requestAnimationFrame(loop);
}

async function load(rec, t) {
  setPlaying(false);
  Object.assign(state, {
    session: rec.session, source: rec.source, events: rec.events,
    duration: rec.duration, loaded: false, framesShown: 0,
  });
  state.incidents = rec.events.filter((r) => isIncident(r.event)).map((r) => r.t);
  $('title').textContent = `Session ${rec.session}`;
  const v = $('verify');
  v.textContent = rec.verify;
  v.className = `verify ${rec.verifyClass}`;
  buildTimeline();
  await seek(t);
  state.loaded = true;
}

async function openFromServer() {
  const id = decodeURIComponent(location.pathname.split('/').pop());
  if (id === 'bundle') return; // the bundle picker only
  const d = await getJSON(`/api/v1/audit/sessions/${encodeURIComponent(id)}`);
  const problem = d.verify.problem ? `: ${d.verify.problem.kind} at record #${d.verify.problem.record}` : '';
  const source = {
    chunk: (from, len) => getJSON(`/api/v1/audit/sessions/${encodeURIComponent(id)}/chunk?from_ms=${Math.round(from)}&len_ms=${len}`),
  };
  state.verify = d.verify.status;
  const t = Number(new URLSearchParams(location.search).get('t')) || 0;
  await load({
    session: id, source, events: d.events, duration: d.duration_ms,
    verify: `${d.verify.status.replace('_', ' ')} (${d.verify.records} records)${problem}`,
    verifyClass: d.verify.status,
  }, t);
}

wire();
openFromServer().catch(showError);

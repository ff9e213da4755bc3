// Page-wide messages: a short confirmation, and the "someone else changed
// the policy" banner with its reload button.

let reloadAll = () => {};
/** Sets what the conflict banner's reload button does. */
export function onReload(fn) { reloadAll = fn; }

/** Shows a short confirmation. */
export function flash(text) {
  const f = document.getElementById('flash');
  f.textContent = text;
  f.hidden = false;
  clearTimeout(flash.timer);
  flash.timer = setTimeout(() => { f.hidden = true; }, 4000);
}

/** Shows the stale-write banner. */
export function conflict(currentVersion) {
  document.getElementById('conflict-version').textContent = currentVersion ?? '?';
  document.getElementById('conflict').hidden = false;
}

export function initNotify() {
  document.getElementById('conflict-reload').addEventListener('click', async () => {
    document.getElementById('conflict').hidden = true;
    await reloadAll();
  });
}

/** Handles an API error of a write: conflicts get the banner, true if handled. */
export function handledConflict(err) {
  if (err && err.status === 409) {
    conflict(err.currentVersion);
    return true;
  }
  return false;
}

// The account page: a password user changes their own password
// (`POST /api/me/password`). Users whose password the server's
// configuration holds are told to ask an administrator.

const form = document.getElementById('password-form');
const error = document.getElementById('password-error');
const done = document.getElementById('password-done');

function show(message) {
  error.textContent = message;
  error.hidden = false;
}

async function start() {
  const res = await fetch('/api/me', { credentials: 'same-origin', cache: 'no-store' });
  if (res.status === 401) {
    location.assign('/login?next=%2Faccount');
    return;
  }
  const me = await res.json();
  document.getElementById('account-user').textContent = `Signed in as ${me.user}`;
  document.getElementById('account-name').value = me.user;
  if (!me.can_change_password) {
    show('Your password is set in the server\'s configuration. Ask an administrator to change it.');
    for (const input of form.querySelectorAll('input, button')) input.disabled = true;
  }
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  error.hidden = true;
  done.hidden = true;
  const current = document.getElementById('current').value;
  const next = document.getElementById('new').value;
  if (next !== document.getElementById('repeat').value) {
    show('The two new passwords differ.');
    return;
  }
  const button = document.getElementById('password-submit');
  button.disabled = true;
  try {
    const res = await fetch('/api/me/password', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-Isolator-Request': '1' },
      body: JSON.stringify({ current, new: next }),
    });
    if (res.status === 204) {
      form.reset();
      done.hidden = false;
    } else {
      let body = null;
      try { body = await res.json(); } catch { body = null; }
      show((body && body.error) || `The change failed (${res.status}).`);
    }
  } catch {
    show('The server could not be reached. Try again.');
  } finally {
    button.disabled = false;
  }
});

start();

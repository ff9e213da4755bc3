// Login page: fills the hidden `next` field from `?next=`, shows `?error=`,
// and disables the button while the form posts. The form itself is a plain
// `application/x-www-form-urlencoded` post to /login (works without script).

const params = new URLSearchParams(location.search);

/** A path on this server: printable ASCII, one leading slash, no backslash. */
function plainPath(value) {
  return /^\/(?![/\\])[\x21-\x7e]*$/.test(value) && !value.includes('\\');
}

/**
 * Only same-origin paths are accepted as `next`, so the login cannot be used
 * as an open redirect. The path is checked again after percent-decoding
 * (`/%09/evil.example/` is `//evil.example/` once a browser drops the tab;
 * `/%5Cevil.example`, `/%2F/evil.example`). The server applies the same rule.
 */
function safeNext(value) {
  if (!value || value.length > 4096 || !plainPath(value)) return '/';
  let path = value.split(/[?#]/)[0];
  for (let i = 0; i < 3; i++) {
    let decoded;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return '/';
    }
    if (!plainPath(decoded)) return '/';
    if (decoded === path) return value;
    path = decoded;
  }
  return '/';
}

const retry = Number.parseInt(params.get('retry') || '', 10);
const ERRORS = {
  1: 'Wrong user name or password.',
  wait: Number.isFinite(retry) && retry > 0
    ? `Too many attempts. Try again in ${retry} second${retry === 1 ? '' : 's'}.`
    : 'Too many attempts. Try again in a moment.',
};

document.getElementById('next').value = safeNext(params.get('next'));

const error = params.get('error');
if (error) {
  const el = document.getElementById('login-error');
  el.textContent = ERRORS[error] || 'Sign-in failed. Try again.';
  el.hidden = false;
  document.getElementById('password').focus();
}

const user = params.get('user');
if (user) document.getElementById('username').value = user;

const form = document.getElementById('login-form');
form.addEventListener('submit', () => {
  const button = document.getElementById('login-submit');
  // Disabled after the submit is dispatched, so the post still happens; a double click does not post twice.
  setTimeout(() => {
    button.disabled = true;
    button.textContent = 'Signing in\u2026';
  }, 0);
});
// Coming back with the browser's back button: enable the form again.
window.addEventListener('pageshow', () => {
  const button = document.getElementById('login-submit');
  button.disabled = false;
  button.textContent = 'Sign in';
});

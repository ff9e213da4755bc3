// Login page: fills the hidden `next` field from `?next=`, shows `?error=`,
// and disables the button while the form posts. The form itself is a plain
// `application/x-www-form-urlencoded` post to /login (works without script).

const params = new URLSearchParams(location.search);

/** Only same-origin paths are accepted as `next`, so the login cannot be used as an open redirect. */
function safeNext(value) {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return '/';
  return value;
}

const ERRORS = {
  1: 'Wrong user name or password.',
  locked: 'Too many attempts. Try again later.',
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

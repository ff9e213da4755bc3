#!/usr/bin/env bash
# Installs the Debian packages isolator needs, only those that are missing.
# Idempotent; safe to run on every `make run` / `make test`.
# Needs root (or sudo) the first time, when something is missing.
set -euo pipefail

PACKAGES=(
  chromium            # the isolated browser (and the test client browser)
  ca-certificates     # roots the egress proxy verifies https sites against
  fonts-dejavu-core   # a font for rendered pages and OCR fixtures
  fonts-liberation    # metric-compatible fonts for test pages
  tesseract-ocr       # OCR engine
  tesseract-ocr-eng   # English model, shipped by Debian (no download at run time)
  tesseract-ocr-osd   # orientation detection: sideways and upside-down scans
  libtesseract-dev    # tesseract crate (bindgen)
  libleptonica-dev    # tesseract crate (bindgen)
  clang               # bindgen
  libclang-dev        # bindgen
  pkg-config          # finds tesseract/leptonica
  poppler-utils       # pdftotext: PDF text, metadata, decryption; pdftoppm: scanned pages for OCR
  ripgrep             # benchmark baseline for the DLP engine
  sqlite3             # audit index inspection
  nodejs              # runs the web client's unit tests (node --test)
  npm                 # installs the real editors the end-to-end tests type into
  postgresql          # the cluster tests' shared database (a real server, started by the tests)
  nginx               # the cluster tests' proxy in front of the nodes (isolator/deploy/nginx/)
  python3-venv        # isolator/deploy/check.sh installs kubernetes-validate into a venv
  prometheus          # promtool: tests check the /metrics scrape with Prometheus' own parser (19 MB)
)

missing=()
for p in "${PACKAGES[@]}"; do
  # A node already on PATH (from another packaging of Node.js) serves as well.
  if [ "$p" = nodejs ] && command -v node >/dev/null 2>&1; then continue; fi
  if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # The packages start their own system services; the tests start their
  # own servers on free ports and need none of these.
  for service in nginx postgresql; do
    if printf '%s\n' "${missing[@]}" | grep -qx "$service"; then
      $SUDO service "$service" stop >/dev/null 2>&1 || true
    fi
  done
fi

# An unprivileged system user runs the isolated Chromium (sandbox on).
if ! id isolator-chromium >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO useradd --system --no-create-home --shell /usr/sbin/nologin isolator-chromium || true
fi
# Another runs the extraction workers, which parse hostile files: a parser
# bug must not reach the server's root, nor the browser's user.
if ! id isolator-extract >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO useradd --system --no-create-home --shell /usr/sbin/nologin isolator-extract || true
fi

# Rust toolchain components used by `make test`.
if command -v rustup >/dev/null 2>&1; then
  rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt clippy >/dev/null 2>&1 || true
fi
echo "install-deps: all system packages present"

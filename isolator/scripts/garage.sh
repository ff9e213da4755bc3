#!/usr/bin/env bash
# Prints the path of a Garage 2.5.0 binary (an S3-compatible object store,
# https://garagehq.deuxfleurs.fr), building it from crates.io the first time.
#
# Garage is AGPL-3.0: it is only run as a separate test server by isolator's
# object-storage tests (isolator/tests/support/garage.rs), never linked.
#
# The build goes into a cache outside the repository:
#   ${ISOLATOR_TOOLS:-$HOME/.cache/isolator-tools}/garage-2.5.0/bin/garage
# and is reused afterwards. Building it takes many minutes on 2 cores (see the
# README); it runs with `nice -n 10` so the machine stays usable.
# Needs: cargo (the workspace toolchain) and a C compiler. Only crates.io is used.
#
# Usage: isolator/scripts/garage.sh        # prints the binary path (builds if missing)
# Progress goes to stderr; only the path goes to stdout.
set -euo pipefail

VERSION=2.5.0
TOOLS="${ISOLATOR_TOOLS:-$HOME/.cache/isolator-tools}"
CACHE="$TOOLS/garage-$VERSION"
BIN="$CACHE/bin/garage"

if [ -x "$BIN" ]; then
  echo "$BIN"
  exit 0
fi

mkdir -p "$CACHE"
# One build at a time: a second caller waits for the first one's result.
exec 9>"$CACHE.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
fi
if [ -x "$BIN" ]; then
  echo "$BIN"
  exit 0
fi

echo "garage.sh: building garage $VERSION into $CACHE (many minutes, once)" >&2
start=$(date +%s)
# A target dir of its own inside the cache, removed after the install, so the
# build leaves only the binary behind.
export CARGO_TARGET_DIR="$CACHE/build"
nice -n 10 cargo install garage --version "$VERSION" --locked --root "$CACHE" >&2
rm -rf "$CARGO_TARGET_DIR"
end=$(date +%s)
echo "garage.sh: built garage $VERSION in $((end - start)) s" >&2
echo "$BIN"

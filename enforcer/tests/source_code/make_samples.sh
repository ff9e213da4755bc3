#!/bin/sh
# Rebuilds samples/ from samples.list: each listed file (held out from
# training, see heldout.txt) read as the training command reads it (gunzip
# for .gz, `man -P cat` with MANWIDTH=80 for man pages) and cut to its
# first 8 KB at a line end. Needs the Debian packages of
# isolator/scripts/install-deps.sh, ~/.cargo/registry with the crates of
# Cargo.lock, and `npm ci` in tests/editors. Run from the workspace root.
set -eu
here=enforcer/tests/source_code
rm -rf "$here/samples"
mkdir -p "$here/samples/code" "$here/samples/prose" "$here/samples/data"
grep -v '^#' "$here/samples.list" | while IFS="$(printf '\t')" read -r set class path; do
  src=$(printf '%s' "$path" | sed "s|^~|$HOME|")
  base=$(basename "$path" .gz)
  parent=$(basename "$(dirname "$path")")
  name=$(printf "%s-%s-%s" "$class" "$parent" "$base" | tr -c "A-Za-z0-9._-" "_")
  case "$path" in
    /usr/share/man/*) MANWIDTH=80 man -P cat -l "$src" 2>/dev/null | sed 's/.\x08//g' ;;
    *.gz) gzip -dc "$src" ;;
    *) cat "$src" ;;
  esac | head -c 8192 | sed '$d' > "$here/samples/$set/$name"
done

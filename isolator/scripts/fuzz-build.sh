#!/usr/bin/env bash
# Builds every cargo-fuzz crate (enforcer/fuzz, isolator/fuzz, policies/fuzz),
# so CI catches fuzz targets that no longer compile. Uses `cargo +nightly fuzz
# build` when cargo-fuzz is installed (sanitizer build, as when fuzzing), and
# otherwise a plain `cargo +nightly build` of each fuzz crate (libfuzzer-sys
# links its own fuzzer main). The fuzz crates are outside the workspace.
#
# Usage: isolator/scripts/fuzz-build.sh   (from anywhere)
# Target dir: $FUZZ_TARGET_DIR, default target/fuzz at the repository root.
# Sanitizer: $FUZZ_SANITIZER, default `none` (libFuzzer's coverage guidance
# without AddressSanitizer: the code under test is safe Rust whose failures
# are panics, and an ASan build of the extractors' dependency tree takes over
# an hour on 2 cores); `address` for an ASan build.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
target="${FUZZ_TARGET_DIR:-$root/target/fuzz}"
crates=(enforcer isolator policies)

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "fuzz-build: the nightly toolchain is required (rustup toolchain install nightly)" >&2
    exit 1
fi

for crate in "${crates[@]}"; do
    dir="$root/$crate"
    if [ ! -f "$dir/fuzz/Cargo.toml" ]; then
        echo "fuzz-build: $dir/fuzz/Cargo.toml is missing" >&2
        exit 1
    fi
    echo "fuzz-build: $crate/fuzz"
    if cargo +nightly fuzz --version >/dev/null 2>&1; then
        (cd "$dir" && cargo +nightly fuzz build -s "${FUZZ_SANITIZER:-none}" --target-dir "$target")
    else
        cargo +nightly build --manifest-path "$dir/fuzz/Cargo.toml" --target-dir "$target" --bins
    fi
done
echo "fuzz-build: all fuzz targets built"

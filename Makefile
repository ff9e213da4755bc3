# isolator: the two set-up commands are `make run` and `make test`.
# Both install missing Debian packages through isolator/scripts/install-deps.sh.

SHELL := /bin/bash
CONFIG ?= isolator/examples/isolator.toml
CARGO ?= cargo
export OMP_THREAD_LIMIT := 1

.PHONY: run test deps build check fuzz-check fuzz-build fmt clippy bench editors tools deploy-check cluster-test

deps:
	@bash isolator/scripts/install-deps.sh

build: deps
	$(CARGO) build --release -p isolator

run: build
	./target/release/isolator serve --config $(CONFIG)

check: deps
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

# The cargo-fuzz crates live outside the workspace; type-check their targets
# so they cannot rot (fuzzing itself: `make fuzz-build`, then enforcer/FUZZING.md).
fuzz-check:
	for c in enforcer policies isolator; do \
		$(CARGO) check --locked --manifest-path $$c/fuzz/Cargo.toml --target-dir target/fuzz-check --bins || exit 1; \
	done

fuzz-build: deps
	bash isolator/scripts/fuzz-build.sh

# The real editors the end-to-end tests type into (Quill, ProseMirror,
# CodeMirror), pinned by tests/editors/package-lock.json.
editors:
	cd tests/editors && npm ci --no-audit --no-fund --loglevel=error

# Garage, the S3-compatible server the object-storage tests record into:
# built once from crates.io into ~/.cache/isolator-tools (isolator/scripts/garage.sh).
tools: deps
	bash isolator/scripts/garage.sh >/dev/null

# The Kubernetes manifests against the Kubernetes schemas (strict) and the
# config they carry (isolator/deploy/check.sh; kubernetes-validate from PyPI,
# installed once into ~/.cache/isolator-tools).
deploy-check: deps
	bash isolator/deploy/check.sh

# The cluster as its users see it (issue 24): a real PostgreSQL, Garage and
# nginx, three isolator nodes on loopback ports, and real client browsers
# (isolator/tests/cluster_browsers.rs; the figures it prints start with
# `cluster-test:`). `make test` runs it too, within `cargo test --workspace`.
cluster-test: deps tools
	$(CARGO) test -p isolator --locked --test cluster_browsers -- --nocapture

test: check fuzz-check editors tools deploy-check
	node --test web-client/tests/ isolator/tests/js/
	$(CARGO) test --workspace --locked --no-fail-fast

fmt:
	$(CARGO) fmt --all

bench: deps
	$(CARGO) bench --workspace

# isolator: the two set-up commands are `make run` and `make test`.
# Both install missing Debian packages through isolator/scripts/install-deps.sh.

SHELL := /bin/bash
CONFIG ?= isolator/examples/isolator.toml
CARGO ?= cargo
export OMP_THREAD_LIMIT := 1

.PHONY: run test deps build check fmt clippy bench

deps:
	@bash isolator/scripts/install-deps.sh

build: deps
	$(CARGO) build --release -p isolator

run: build
	./target/release/isolator serve --config $(CONFIG)

check: deps
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

test: check
	node --test web-client/tests/
	$(CARGO) test --workspace --locked --no-fail-fast

fmt:
	$(CARGO) fmt --all

bench: deps
	$(CARGO) bench --workspace

# viva — the two commands: `make run` (a running server with the demo job) and `make test`.
# Builds go to a target folder outside the checkout so fresh clones (and CI) reuse them.
CARGO_TARGET_DIR ?= $(HOME)/.cache/viva/target
export CARGO_TARGET_DIR
VIVA_MODELS_DIR ?= $(CURDIR)/models/store
export VIVA_MODELS_DIR
VIVA := $(CARGO_TARGET_DIR)/release/viva
CARGO_FLAGS := --release --locked

.PHONY: run test setup build models fmt lint clean-models package

run: setup models
	VIVA_DEMO_ENABLED=$${VIVA_DEMO_ENABLED:-true} $(VIVA) serve

setup:
	@bash scripts/setup.sh

build: setup
	cargo build $(CARGO_FLAGS) -p viva-server

models: build
	$(VIVA) models fetch
	$(VIVA) models fetch --model tiny.en
	$(VIVA) models fetch --model base-q8_0

# Every test: unit, integration and end-to-end. The real speech pipeline is never skipped here:
# VIVA_REQUIRE_MODELS makes a missing model a failure instead of a skip.
test: models
	cargo fmt --all -- --check
	VIVA_REQUIRE_MODELS=1 VIVA_BIN=$(VIVA) cargo test $(CARGO_FLAGS) --workspace

# A release tarball and a .deb in dist/ (binary, example config, systemd unit, install guide).
package: build
	bash scripts/package.sh --binary $(VIVA) --out dist

lint:
	cargo clippy $(CARGO_FLAGS) --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

clean-models:
	rm -rf models/store

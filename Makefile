# `make run` and `make test` each do their own set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

C_SERVER    := implementations/c/build/sframe-server
C_ASAN      := implementations/c/build/sframe-server-asan
MEDOOZE_LIB := implementations/medooze/node_modules/sframe/package.json
MLS_GROUP_LIB := implementations/mls-group/node_modules/ts-mls/package.json

.PHONY: all setup build run test vectors clean

all: build

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

setup: $(STAMP)

$(C_SERVER) $(C_ASAN): implementations/c/*.c implementations/c/*.h implementations/c/Makefile
	$(MAKE) -C implementations/c all asan

$(MEDOOZE_LIB): implementations/medooze/package.json implementations/medooze/package-lock.json
	npm ci --prefix implementations/medooze --no-audit --no-fund --loglevel=error
	touch $@

# A real MLS group (ts-mls) for tests/harness/catalogue/test_mls_group.py.
$(MLS_GROUP_LIB): implementations/mls-group/package.json implementations/mls-group/package-lock.json
	npm ci --prefix implementations/mls-group --no-audit --no-fund --loglevel=error
	touch $@

# actionlint checks the GitHub Actions workflows; it comes from the Go module proxy.
ACTIONLINT := $(VENV)/bin/actionlint
$(ACTIONLINT): | $(STAMP)
	GOBIN=$(abspath $(VENV)/bin) go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12

# implementations/rust-sframe: shims over the crates.io `sframe` crate. Its
# crypto backends are mutually exclusive features, so each backend is its own
# cargo invocation (one invocation would unify them); all share one target dir
# and cargo's registry cache, and a warm rebuild is a no-op. Without cargo the
# Rust implementations are skipped with one line, except on CI, where that fails.
CARGO    ?= $(or $(shell command -v cargo 2>/dev/null),$(wildcard $(HOME)/.cargo/bin/cargo))
RUST_DIR := implementations/rust-sframe

.PHONY: rust
rust:
ifeq ($(CARGO),)
	@echo "cargo not installed: the Rust implementations (rust-*) are not built"; [ -z "$$CI" ]
else
	cd $(RUST_DIR) && for backend in ring openssl rust-crypto; do \
		$(CARGO) build --release --locked --quiet -p sframe-rfc9605-shim --no-default-features --features $$backend || exit 1; \
	done
	cd $(RUST_DIR) && $(CARGO) build --release --locked --quiet -p sframe-draft09-shim
endif

build: setup $(C_SERVER) $(C_ASAN) $(MEDOOZE_LIB) $(MLS_GROUP_LIB) $(ACTIONLINT) rust

# Conformance and the interop matrix over every bundled implementation that is
# built. Known failures (medooze implements a 2020 draft) are listed in
# expectations/; only a new failure fails this target.
run: build
	$(BIN)/python -m harness run --impl all --matrix --media --expectations expectations --out reports

test: build
	$(BIN)/python -m pytest -q

# Longer fuzzing campaigns (the test suite runs each for seconds only). FUZZ_TIME per target.
FUZZ_TIME ?= 300
.PHONY: fuzz
fuzz: build
	for t in header decrypt context; do $(BIN)/python -m harness fuzz --target $$t --max-time $(FUZZ_TIME) --jobs 2 || exit 1; done
	$(BIN)/python -m harness difffuzz --impl python --impl c --impl js --max-time $(FUZZ_TIME)
	$(BIN)/python -m harness properties --impl python --random --max-examples 1000

vectors: setup
	$(BIN)/python -m harness vectors --write

clean:
	rm -rf $(VENV) implementations/c/build implementations/medooze/node_modules implementations/mls-group/node_modules $(RUST_DIR)/target

# `make run` and `make test` each do their own set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

C_SERVER    := implementations/c/build/sframe-server
C_ASAN      := implementations/c/build/sframe-server-asan
MEDOOZE_LIB := implementations/medooze/node_modules/sframe/package.json
MLS_GROUP_LIB := implementations/mls-group/node_modules/ts-mls/package.json

.PHONY: all deps setup build run test vectors clean check-fresh

all: build

# System packages (Debian's chromium, libssl-dev, clang, afl++, llvm, ...): as
# root, apt-get installs the missing ones; otherwise one line names the command
# and the build goes on. Every target that builds runs it first (it only checks
# when nothing is missing); `.ci/run` is just `make test`.
deps:
	@PYTHON=$(PYTHON) sh scripts/system-packages.sh

$(STAMP): pyproject.toml | deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

setup: deps $(STAMP)

$(C_SERVER) $(C_ASAN): implementations/c/*.c implementations/c/*.h implementations/c/Makefile | deps
	$(MAKE) -C implementations/c all asan

# Coverage builds for `python -m harness fuzz` (harness/PROTOCOL.md, "Fuzzing your implementation
# with coverage"): c-cov (clang SanitizerCoverage, ASan+UBSan, llvm-cov) and rust-ring-cov (rustc's
# sancov pass, its own target dir so the release build is untouched), both with fuzz/runtime/.
C_COV       := implementations/c/build/sframe-server-cov
COV_RUNTIME := fuzz/runtime/afl_shm_coverage.c
$(C_COV): implementations/c/*.c implementations/c/*.h implementations/c/Makefile $(COV_RUNTIME) | deps
	$(MAKE) -C implementations/c cov

$(MEDOOZE_LIB): implementations/medooze/package.json implementations/medooze/package-lock.json
	npm ci --prefix implementations/medooze --no-audit --no-fund --loglevel=error
	touch $@

# A real MLS group (ts-mls) for tests/harness/catalogue/test_mls_group.py, and the ts-mls group driver of the
# two-stack MLS test.
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
RUST_COV_FLAGS = -C passes=sancov-module -C llvm-args=-sanitizer-coverage-level=3 \
	-C llvm-args=-sanitizer-coverage-trace-pc-guard -C llvm-args=-sanitizer-coverage-trace-compares \
	-C link-arg=$(abspath $(RUST_DIR)/target-cov/afl_shm_coverage.o)
OPENMLS_DIR := implementations/openmls-group

# The targets that need cargo, each with what it leaves unbuilt without it.
CARGO_TARGETS    := rust rust-cov openmls
UNBUILT_rust     := the Rust implementations (rust-*) are
UNBUILT_rust-cov := rust-ring-cov is
UNBUILT_openmls  := the OpenMLS group driver is
.PHONY: $(CARGO_TARGETS)

ifeq ($(CARGO),)
$(CARGO_TARGETS):
	@echo "cargo not installed: $(UNBUILT_$@) not built"; [ -z "$$CI" ]
else
rust:
	cd $(RUST_DIR) && for backend in ring openssl rust-crypto; do \
		$(CARGO) build --release --locked --quiet -p sframe-rfc9605-shim --no-default-features --features $$backend || exit 1; \
	done
	cd $(RUST_DIR) && $(CARGO) build --release --locked --quiet -p sframe-draft09-shim
	cd $(RUST_DIR) && $(CARGO) build --release --locked --quiet -p sframe-1x-shim

rust-cov:
	mkdir -p $(RUST_DIR)/target-cov
	clang -O2 -c $(COV_RUNTIME) -o $(RUST_DIR)/target-cov/afl_shm_coverage.o
	cd $(RUST_DIR) && RUSTFLAGS="$(RUST_COV_FLAGS)" $(CARGO) build --release --locked --quiet \
		-p sframe-rfc9605-shim --no-default-features --features ring --target-dir target-cov --bin sframe-rust-ring

# implementations/openmls-group: the OpenMLS (crates.io openmls 0.9.2) group driver of the two-stack MLS test
# (tests/harness/engine/test_mls_two_stacks.py). Its own Cargo.lock and target dir, so it never unifies
# features with the sframe shims.
openmls:
	cd $(OPENMLS_DIR) && $(CARGO) build --release --locked --quiet
endif

build: deps setup $(C_SERVER) $(C_ASAN) $(C_COV) $(MEDOOZE_LIB) $(MLS_GROUP_LIB) $(ACTIONLINT) rust rust-cov openmls

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
	$(BIN)/python -m harness fuzz --impl python --impl c --impl js --max-time $(FUZZ_TIME) --reports reports
	$(BIN)/python -m harness properties --impl python --random --max-examples 1000

vectors: setup
	$(BIN)/python -m harness vectors --write

# The README's two commands in a clean clone and a clean environment (no .venv,
# no build outputs; cargo's, npm's and pip's download caches are reused), each
# timed. FROM=worktree copies the working tree (tracked and untracked files, as
# git would commit them) instead of cloning HEAD.
FROM ?= head
check-fresh:
	bash scripts/check-fresh.sh $(FROM)

clean:
	rm -rf $(VENV) implementations/c/build implementations/medooze/node_modules implementations/mls-group/node_modules $(RUST_DIR)/target $(RUST_DIR)/target-cov $(OPENMLS_DIR)/target

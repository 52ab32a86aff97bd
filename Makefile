# `make run` and `make test` each do their own set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
IMPLS  := python c js medooze

C_SERVER    := implementations/c/build/sframe-server
C_ASAN      := implementations/c/build/sframe-server-asan
MEDOOZE_LIB := implementations/medooze/node_modules/sframe/package.json

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

build: setup $(C_SERVER) $(C_ASAN) $(MEDOOZE_LIB)

# Conformance of every bundled implementation; medooze implements a pre-RFC
# draft, so its failures are expected and do not fail this target (exit 1 =
# conformance failures, exit 2 = a usage error, which does).
run: build
	$(BIN)/python -m harness run $(addprefix --impl ,$(IMPLS)) --out reports || [ $$? -eq 1 ]

test: build
	$(BIN)/python -m pytest -q

vectors: setup
	$(BIN)/python -m harness vectors --write

clean:
	rm -rf $(VENV) implementations/c/build implementations/medooze/node_modules

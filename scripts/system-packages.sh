#!/bin/sh
# The Debian packages that `make build`, `make run` and `make test` need, each
# checked by the file or command it provides. As root, apt-get installs the
# missing ones; otherwise one line names the command, and the build goes on
# (what is missing is then skipped with its own one-line reason, or fails).
# `make deps` runs this; so does every target that builds.
set -eu

missing=""
want() { missing="$missing $1"; }
have() { command -v "$1" >/dev/null 2>&1; }

have cc || want gcc
have make || want make
have node || want nodejs
have npm || want npm  # NodeSource's nodejs ships its own npm: only when there is none
[ -f /usr/include/openssl/evp.h ] || want libssl-dev  # implementations/c links libcrypto
"${PYTHON:-python3}" -c 'import venv, ensurepip' 2>/dev/null || want python3-venv
# Browser tests, the browser-* implementations and the media scenarios (SFRAME_CHROMIUM: another binary).
[ -x "${SFRAME_CHROMIUM:-/usr/bin/chromium}" ] || want chromium
# Coverage-guided fuzzing and coverage of the C implementation: clang with its
# libFuzzer and sanitizer runtimes, AFL++, llvm-cov and llvm-profdata.
have clang || want clang
if ! have clang || [ ! -f "$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a)" ]; then want libclang-rt-dev; fi
have afl-fuzz || want afl++
{ have llvm-cov && have llvm-profdata; } || want llvm

[ -n "$missing" ] || exit 0
missing=${missing# }
if [ "$(id -u)" -ne 0 ] || ! have apt-get; then
    echo "system packages missing: $missing; install them with: sudo apt-get install -y $missing (or: sudo make deps)"
    exit 0
fi
echo "installing system packages: $missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086  # one word per package
apt-get install -y -qq $missing >/dev/null

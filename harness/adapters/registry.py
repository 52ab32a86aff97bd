"""Named implementations, registered in one place.

Rules:

- Adding an implementation is one entry here. Everything else that needs to
  know the implementations reads this table: the CLI's ``--impl`` help and
  ``all``, the browser adapter (``Implementation.browser``), the media
  scenarios (``media_lib``), the benchmarks (``kind``), and the jobs of
  ``.github/workflows/conformance.yml`` (``ci_job``; a test fails when the
  workflow and this table differ).
- ``cmd:ANY COMMAND LINE`` names any program speaking the wire protocol
  without registering it.
- An entry that runs code from ``implementations/`` says so
  (``needs_checkout``): from an installed wheel it answers in one line that it
  is only available in a checkout.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..locations import CHECKOUT_ONLY, IMPLEMENTATIONS, ROOT, in_checkout
from .base import Adapter, AdapterError
from .browser import BrowserShim, open_browser
from .inprocess import PythonAdapter
from .subprocess import SubprocessAdapter

Kind = Literal["inprocess", "subprocess", "browser"]


@dataclass(frozen=True)
class Options:
    timeout: float = 5.0
    window: int = 64
    # The framings a subprocess adapter offers in hello; None: its default (binary-v1). () forces
    # JSON lines, so that the benchmark can measure both.
    framings: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Implementation:
    name: str
    description: str
    kind: Kind
    factory: Callable[[Options], Adapter]
    # Files that must exist for the implementation to be available (built or installed).
    requires: tuple[Path, ...] = ()
    # Part of `--impl all` and the default matrix (an alias of another entry is not).
    bundled: bool = True
    # Runs code from implementations/ (or the C/Rust builds): not in an installed wheel.
    needs_checkout: bool = True
    # kind == "browser": the Node stdio shim the page runs in a worker.
    browser: BrowserShim | None = None
    # The library the media scenarios' page transforms load ("js" or "medooze"); None: no media mode.
    media_lib: str | None = None
    # One job of .github/workflows/conformance.yml.
    ci_job: bool = True
    # kind == "subprocess": the program's command line, for wrappers that start it themselves
    # (adapters/coverage.py starts it with its coverage channels in the environment).
    argv: tuple[str, ...] = ()
    # Coverage-guided fuzzing (adapters/coverage.py): the entry of this implementation's coverage
    # build, fuzzed in its place when built; and, for JavaScript, the substrings of the script URLs
    # whose V8 coverage counts (the implementation's own files, not its shim's).
    coverage_build: str | None = None
    v8_sources: tuple[str, ...] = ()
    # The language of the implementation's own code ("python", "c", "javascript", "rust"), for
    # reports that treat languages differently (coverage_report.py: which source files are the library).
    language: str = ""

    def missing(self) -> list[Path]:
        return [p for p in self.requires if not p.exists()]

    def unavailable(self) -> str | None:
        """Why this implementation cannot start here, in one line, or None."""
        if self.needs_checkout and not in_checkout():
            return f"{self.name} {CHECKOUT_ONLY}"
        missing = self.missing()
        if missing:
            return f"{self.name} is not built: {missing[0]} is missing (run `make build`)"
        return None


def _subprocess(name: str, argv: list[str]) -> Callable[[Options], Adapter]:
    cwd = ROOT if in_checkout() else None
    return lambda o: SubprocessAdapter(argv, name=name, timeout=o.timeout, window=o.window, cwd=cwd,
                                       framings=o.framings)


def _native(name: str, description: str, language: str, argv: list[str], requires: tuple[Path, ...],
            bundled: bool = True, ci_job: bool = True, coverage_build: str | None = None,
            v8_sources: tuple[str, ...] = ()) -> Implementation:
    return Implementation(name, description, "subprocess", _subprocess(name, argv), requires, bundled=bundled,
                          ci_job=ci_job, argv=tuple(argv), coverage_build=coverage_build, v8_sources=v8_sources,
                          language=language)


C_SERVER = IMPLEMENTATIONS / "c" / "build" / "sframe-server"
# Coverage builds for `python -m harness fuzz` (make -C implementations/c cov; make rust-cov): variants of
# c and rust-ring, so neither part of `all` nor a CI job of their own.
C_COV = IMPLEMENTATIONS / "c" / "build" / "sframe-server-cov"
RUST_COV = IMPLEMENTATIONS / "rust-sframe" / "target-cov" / "release" / "sframe-rust-ring"
JS_SERVER = IMPLEMENTATIONS / "js" / "server.mjs"
MEDOOZE_SHIM = IMPLEMENTATIONS / "medooze" / "shim.mjs"
MEDOOZE_LIB = IMPLEMENTATIONS / "medooze" / "node_modules" / "sframe"

# implementations/rust-sframe: shims over the crates.io `sframe` crate, one binary
# per crypto backend (`make rust` builds them; cargo's default target dir).
RUST_BIN = IMPLEMENTATIONS / "rust-sframe" / "target" / "release"


def _rust(name: str, description: str, coverage_build: str | None = None) -> Implementation:
    binary = RUST_BIN / f"sframe-{name}"
    return _native(name, description, "rust", [str(binary)], (binary,), coverage_build=coverage_build)


def _browser(shim: BrowserShim, description: str, requires: tuple[Path, ...], media_lib: str,
             v8_sources: tuple[str, ...]) -> Implementation:
    return Implementation(shim.name, description, "browser", lambda o: open_browser(shim, o.timeout, o.window),
                          requires, browser=shim, media_lib=media_lib, v8_sources=v8_sources, language="javascript")


REGISTRY: dict[str, Implementation] = {
    impl.name: impl
    for impl in (
        Implementation("python", "implementations/python (sframe_py), in process", "inprocess",
                       lambda o: PythonAdapter(timeout=o.timeout), needs_checkout=False, language="python"),
        _native("c", "implementations/c: C over OpenSSL libcrypto", "c", [str(C_SERVER)], (C_SERVER,),
                coverage_build="c-cov"),
        _native("js", "implementations/js: JavaScript on WebCrypto, in Node", "javascript", ["node", str(JS_SERVER)],
                (JS_SERVER,), v8_sources=(f"{IMPLEMENTATIONS.as_uri()}/js/lib/",
                                          f"{IMPLEMENTATIONS.as_uri()}/js/sframe.mjs")),
        _native("medooze", "npm sframe 0.1.0 (medooze, pre-RFC draft format), in Node", "javascript",
                ["node", str(MEDOOZE_SHIM)], (MEDOOZE_SHIM, MEDOOZE_LIB),
                v8_sources=(f"{IMPLEMENTATIONS.as_uri()}/medooze/node_modules/sframe/lib/",)),
        Implementation(
            "python-subprocess",
            "implementations/python behind `python -m harness serve`, over the wire protocol",
            "subprocess",
            _subprocess("python-subprocess", [sys.executable, "-m", "harness", "serve", "--impl", "python"]),
            bundled=False, needs_checkout=False, ci_job=False, language="python",
        ),
        _rust("rust-ring", "crates.io sframe 2.1.0 (RFC 9605), ring backend", coverage_build="rust-ring-cov"),
        _rust("rust-openssl", "crates.io sframe 2.1.0 (RFC 9605), openssl backend (vendored OpenSSL)"),
        _rust("rust-rustcrypto", "crates.io sframe 2.1.0 (RFC 9605), rust-crypto backend"),
        _rust("rust-draft09", "crates.io sframe 0.7.3 (draft-ietf-sframe-enc-09), ring backend"),
        _rust("rust-1x", "crates.io sframe 1.4.3 (1.x line, labelled RFC 9605; AAD is metadata then header), ring backend"),
        _native("c-cov", "implementations/c built for coverage-guided fuzzing (SanitizerCoverage edges, ASan+UBSan, "
                "llvm-cov)", "c", [str(C_COV)], (C_COV,), bundled=False, ci_job=False),
        _native("rust-ring-cov", "rust-ring built for coverage-guided fuzzing (rustc SanitizerCoverage edges)", "rust",
                [str(RUST_COV)], (RUST_COV,), bundled=False, ci_job=False),
        # Headless Chromium (implementations/browser). No browser-native entry: Chromium 156 has no
        # native SFrame API; each browser run reports "not available" with the version (Probe.native_line).
        _browser(BrowserShim("browser-js", "/js/server.mjs"),
                 "implementations/js in headless Chromium: a worker, over Chromium's WebCrypto", (JS_SERVER,), "js",
                 ("/js/lib/", "/js/sframe.mjs")),
        _browser(BrowserShim("browser-medooze", "/medooze/shim.mjs"),
                 "npm sframe 0.1.0 (medooze) in headless Chromium: a worker, over Chromium's WebCrypto",
                 (MEDOOZE_SHIM, MEDOOZE_LIB), "medooze", ("/medooze/lib/",)),
    )
}


def is_browser(spec: str) -> bool:
    impl = REGISTRY.get(spec)
    return impl is not None and impl.kind == "browser"


def media_impls() -> tuple[str, ...]:
    """The implementations the media scenarios can run in the page, in registry order."""
    return tuple(name for name, impl in REGISTRY.items() if impl.media_lib is not None)


def expand(specs: list[str]) -> tuple[list[str], list[str]]:
    """Replace ``all`` by every bundled implementation that is available; return (specs, notes on skipped ones)."""
    out: list[str] = []
    notes: list[str] = []
    for spec in specs:
        if spec != "all":
            out.append(spec)
            continue
        checkout_only = []
        for impl in REGISTRY.values():
            if not impl.bundled:
                continue
            if impl.needs_checkout and not in_checkout():
                checkout_only.append(impl.name)
            elif (reason := impl.unavailable()) is not None:
                notes.append(f"skipping {reason}")
            elif impl.name not in out:
                out.append(impl.name)
        if checkout_only:
            notes.append(f"skipping {', '.join(checkout_only)}: only available in a checkout of sframe-conformance")
    return out, notes


# ``NAME=cmd:PROGRAM ARGS`` names a program; the name is what rows, columns, gate keys and file names show.
_NAMED_CMD = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]{0,39})=(cmd:.*)", re.DOTALL)
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def split_name(spec: str) -> tuple[str | None, str]:
    """(NAME, the rest) of ``NAME=cmd:...``; (None, spec) for any other spec."""
    match = _NAMED_CMD.fullmatch(spec)
    return (match[1], match[2]) if match else (None, spec)


def program_name(hello_name: str, command: str) -> str:
    """A name for an unnamed ``cmd:`` program: the ``name`` it gives in hello (untrusted: cut to a safe
    token), or its program's file name when it gives none."""
    name = _NAME_UNSAFE.sub("-", hello_name).strip("-.")[:40]
    if not name or name == "?":
        name = _NAME_UNSAFE.sub("-", Path(command.split()[0]).name).strip("-.")[:40] or "cmd"
    return name


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name-2``, ``name-3``... when an earlier implementation of the same command has it."""
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}-{n}"
    taken.add(candidate)
    return candidate


def open_adapter(spec: str, options: Options | None = None, taken: set[str] | None = None) -> Adapter:
    """Start the implementation named by ``spec``; AdapterError has a one-line reason.

    ``taken``: the names of the implementations opened before it for the same command; the new one's name
    is made unique against them (and added)."""
    adapter = _open(spec, options or Options())
    if taken is not None:
        adapter.name = unique_name(adapter.name, taken)
    return adapter


def _open(spec: str, options: Options) -> Adapter:
    name, spec = split_name(spec)
    if spec.startswith("cmd:"):
        command = spec[4:].strip()
        if not command:
            raise AdapterError("cmd: needs a command line, e.g. cmd:'./my-shim --flag'")
        adapter = SubprocessAdapter(command, name=name or spec, timeout=options.timeout, window=options.window,
                                    framings=options.framings)
        if name is None:
            adapter.name = program_name(adapter.hello.name, command)
        return adapter
    impl = REGISTRY.get(spec)
    if impl is None:
        known = ", ".join(sorted(REGISTRY))
        raise AdapterError(f"unknown implementation {spec!r}; known: {known}, or cmd:COMMAND")
    reason = impl.unavailable()
    if reason is not None:
        raise AdapterError(reason)
    return impl.factory(options)

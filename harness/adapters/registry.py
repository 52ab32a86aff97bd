"""Named implementations, registered in one place.

Adding an implementation is one entry here. ``cmd:ANY COMMAND LINE`` names any
program speaking the wire protocol without registering it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..locations import IMPLEMENTATIONS, ROOT
from .base import Adapter, AdapterError
from .browser import BROWSER_SHIMS, open_browser
from .inprocess import PythonAdapter
from .subprocess import SubprocessAdapter


@dataclass(frozen=True)
class Options:
    timeout: float = 5.0
    window: int = 64


@dataclass(frozen=True)
class Implementation:
    name: str
    description: str
    factory: Callable[[Options], Adapter]
    # Files that must exist for the implementation to be available (built or installed).
    requires: tuple[Path, ...] = ()
    # Part of `--impl all` and the default matrix (an alias of another entry is not).
    bundled: bool = True

    def missing(self) -> list[Path]:
        return [p for p in self.requires if not p.exists()]


def _subprocess(name: str, argv: list[str]) -> Callable[[Options], Adapter]:
    return lambda o: SubprocessAdapter(argv, name=name, timeout=o.timeout, window=o.window, cwd=ROOT)


C_SERVER = IMPLEMENTATIONS / "c" / "build" / "sframe-server"

# implementations/rust-sframe: shims over the crates.io `sframe` crate, one binary
# per crypto backend (`make rust` builds them; cargo's default target dir).
RUST_BIN = IMPLEMENTATIONS / "rust-sframe" / "target" / "release"


def _rust(name: str, description: str) -> Implementation:
    binary = RUST_BIN / f"sframe-{name}"
    return Implementation(name, description, _subprocess(name, [str(binary)]), (binary,))


REGISTRY: dict[str, Implementation] = {
    impl.name: impl
    for impl in (
        Implementation("python", "implementations/python (sframe_py), in process", lambda o: PythonAdapter()),
        Implementation(
            "c", "implementations/c: C over OpenSSL libcrypto", _subprocess("c", [str(C_SERVER)]), (C_SERVER,)
        ),
        Implementation(
            "js",
            "implementations/js: JavaScript on WebCrypto, in Node",
            _subprocess("js", ["node", str(IMPLEMENTATIONS / "js" / "server.mjs")]),
            (IMPLEMENTATIONS / "js" / "server.mjs",),
        ),
        Implementation(
            "medooze",
            "npm sframe 0.1.0 (medooze, pre-RFC draft format), in Node",
            _subprocess("medooze", ["node", str(IMPLEMENTATIONS / "medooze" / "shim.mjs")]),
            (IMPLEMENTATIONS / "medooze" / "node_modules" / "sframe",),
        ),
        Implementation(
            "python-subprocess",
            "implementations/python behind `python -m harness serve`, over the wire protocol",
            _subprocess("python-subprocess", [sys.executable, "-m", "harness", "serve", "--impl", "python"]),
            bundled=False,
        ),
        _rust("rust-ring", "crates.io sframe 2.1.0 (RFC 9605), ring backend"),
        _rust("rust-openssl", "crates.io sframe 2.1.0 (RFC 9605), openssl backend (vendored OpenSSL)"),
        _rust("rust-rustcrypto", "crates.io sframe 2.1.0 (RFC 9605), rust-crypto backend"),
        _rust("rust-draft09", "crates.io sframe 0.7.3 (draft-ietf-sframe-enc-09), ring backend"),
        # Headless Chromium (implementations/browser). No browser-native entry: Chromium 156 has no
        # native SFrame API; each browser run reports "not available" with the version (Probe.native_line).
        Implementation(
            "browser-js",
            "implementations/js in headless Chromium: a worker, over Chromium's WebCrypto",
            lambda o: open_browser("browser-js", o.timeout, o.window),
            BROWSER_SHIMS["browser-js"].requires,
        ),
        Implementation(
            "browser-medooze",
            "npm sframe 0.1.0 (medooze) in headless Chromium: a worker, over Chromium's WebCrypto",
            lambda o: open_browser("browser-medooze", o.timeout, o.window),
            BROWSER_SHIMS["browser-medooze"].requires,
        ),
    )
}


def expand(specs: list[str]) -> tuple[list[str], list[str]]:
    """Replace ``all`` by every bundled implementation that is built; return (specs, notes on skipped ones)."""
    out: list[str] = []
    notes: list[str] = []
    for spec in specs:
        if spec != "all":
            out.append(spec)
            continue
        for impl in REGISTRY.values():
            if not impl.bundled:
                continue
            missing = impl.missing()
            if missing:
                notes.append(f"skipping {impl.name}: {missing[0]} is missing (run `make build`)")
            elif impl.name not in out:
                out.append(impl.name)
    return out, notes


def open_adapter(spec: str, options: Options | None = None) -> Adapter:
    """Start the implementation named by ``spec``; AdapterError has a one-line reason."""
    options = options or Options()
    if spec.startswith("cmd:"):
        command = spec[4:].strip()
        if not command:
            raise AdapterError("cmd: needs a command line, e.g. cmd:'./my-shim --flag'")
        return SubprocessAdapter(command, name=spec, timeout=options.timeout, window=options.window)
    impl = REGISTRY.get(spec)
    if impl is None:
        known = ", ".join(sorted(REGISTRY))
        raise AdapterError(f"unknown implementation {spec!r}; known: {known}, or cmd:COMMAND")
    missing = impl.missing()
    if missing:
        raise AdapterError(f"implementation {spec!r} is not built: {missing[0]} is missing (run `make build`)")
    return impl.factory(options)

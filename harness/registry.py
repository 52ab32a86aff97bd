"""Named implementations, registered in one place.

Adding an implementation is one entry here. ``cmd:ANY COMMAND LINE`` names any
program speaking the wire protocol without registering it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .adapters.base import Adapter, AdapterError
from .adapters.inprocess import PythonAdapter
from .adapters.subprocess import SubprocessAdapter

ROOT = Path(__file__).resolve().parent.parent
IMPLEMENTATIONS = ROOT / "implementations"


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

    def missing(self) -> list[Path]:
        return [p for p in self.requires if not p.exists()]


def _subprocess(name: str, argv: list[str]) -> Callable[[Options], Adapter]:
    return lambda o: SubprocessAdapter(argv, name=name, timeout=o.timeout, window=o.window, cwd=ROOT)


C_SERVER = IMPLEMENTATIONS / "c" / "build" / "sframe-server"

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
        ),
    )
}


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

"""Coverage of the implementation under test, through the adapter interface.

A ``CoverageAdapter`` wraps any adapter and gives the fuzzer one *map*: a
region of 8-bit counters at a fixed address, which the fuzzer clears before an
input (``begin``) and reads after it (``end``). Where the counts come from is
the channel, one per kind of adapter:

- ``native``: System V shared memory named by ``__AFL_SHM_ID`` (``AFL_MAP_SIZE``
  bytes), which ``fuzz/runtime/afl_shm_coverage.c`` (clang or rustc
  trace-pc-guard builds) and AFL++'s ``afl-clang-fast`` runtime fill directly;
- ``v8``: a Node.js program gets ``fuzz/runtime/v8-coverage.mjs`` preloaded
  (``NODE_OPTIONS=--import``), which answers "take" on the Unix socket named by
  ``SFRAME_COVERAGE_SOCKET`` with V8's precise block counts of the
  implementation's own files (``SFRAME_COVERAGE_INCLUDE``), hashed into a map;
- ``cdp``: a browser worker's V8 counts through the DevTools protocol
  (``Profiler.takePreciseCoverage`` on the worker, via Playwright's CDP session);
- ``atheris``: the in-process Python implementation, which the fuzzing driver
  instruments itself; it has no map here.

Rules of this module:

- A subprocess is offered both the shared map and the socket, through
  ``env NAME=VALUE ... argv``, so the subprocess adapter's process handling
  stays its own. After ``hello`` a non-zero map says native, a connection says
  V8; neither means "no coverage instrumentation", said in one line by
  ``status``, and the program is fuzzed without coverage.
- What a child sends on a channel is untrusted: sizes are checked, every read
  has a deadline, and a channel that misbehaves is dropped (the campaign loses
  that coverage and says so once), never the campaign.
- Source-level reports (llvm-cov, V8 ranges) are collected only when asked
  (``report_dir``): ``LLVM_PROFILE_FILE`` for native programs, ``NODE_V8_COVERAGE``
  for Node, a final ``takePreciseCoverage`` for the browser.
"""

from __future__ import annotations

import asyncio
import ctypes
import functools
import json
import os
import shutil
import socket
import struct
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..locations import FUZZ, ROOT, in_checkout
from ..model.text import for_terminal, one_line
from ..model.wire import Request, Response
from .base import Adapter, AdapterError
from .browser import BrowserAdapter, BrowserShim, unavailable_reason
from .inprocess import PythonAdapter
from .registry import REGISTRY, Options, program_name, split_name, unique_name
from .subprocess import SubprocessAdapter

NATIVE_MAP_SIZE = 1 << 16  # AFL's default; the bundled programs have a few thousand edges
CMP_MAP_SIZE = 1 << 16  # after the edge map: comparison feedback from fuzz/runtime/afl_shm_coverage.c
CMPLOG_ENTRIES = 1024  # after that: operands of failed comparisons against constants (input-to-state hints)
CMPLOG_BYTES = 16 + 24 * CMPLOG_ENTRIES
V8_MAP_SIZE = 1 << 15
V8_PRELOAD = FUZZ / "runtime" / "v8-coverage.mjs"
CONNECT_WAIT = 2.0  # seconds a program that left the map empty has to connect to the V8 socket

_libc = ctypes.CDLL(None, use_errno=True)
_libc.shmget.restype, _libc.shmget.argtypes = ctypes.c_int, [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
_libc.shmat.restype, _libc.shmat.argtypes = ctypes.c_void_p, [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
_libc.shmdt.argtypes = [ctypes.c_void_p]
_libc.shmctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
_IPC_PRIVATE, _IPC_CREAT, _IPC_EXCL, _IPC_RMID = 0, 0o1000, 0o2000, 0


# ---------------------------------------------------------------------------
# Maps
# ---------------------------------------------------------------------------


class CounterMap:
    """``size`` 8-bit counters at ``address`` that stay put while the map lives (libFuzzer keeps the pointer)."""

    address: int
    size: int

    edge_size: int  # the first edge_size counters are edges (or blocks); the rest are comparison feedback

    def __init__(self, size: int) -> None:
        self.size = self.edge_size = size
        self._buffer: Any = (ctypes.c_uint8 * size)()
        self.address = ctypes.addressof(self._buffer)

    def view(self) -> np.ndarray[Any, np.dtype[np.uint8]]:
        return self._array

    @functools.cached_property
    def _array(self) -> np.ndarray[Any, np.dtype[np.uint8]]:
        # Made once (the address never changes): as_array costs more than the maximum over the map
        # that every input does with it.
        return np.ctypeslib.as_array((ctypes.c_uint8 * self.size).from_address(self.address))

    def clear(self) -> None:
        ctypes.memset(self.address, 0, self.size)

    def close(self) -> None:
        pass


class SharedMap(CounterMap):
    """A System V segment, already marked for removal: it goes when the last process detaches,
    even if the harness dies (Linux lets a child attach a segment marked so while it is attached)."""

    def __init__(self, size: int, edge_size: int | None = None, extra: int = 0) -> None:
        self.size = size  # the counters; ``extra`` bytes after them are not counters (the cmplog)
        self.edge_size = edge_size or size
        self.shm_id = _libc.shmget(_IPC_PRIVATE, size + extra, _IPC_CREAT | _IPC_EXCL | 0o600)
        if self.shm_id < 0:
            raise AdapterError(f"cannot create the coverage map: {os.strerror(ctypes.get_errno())}")
        address = _libc.shmat(self.shm_id, None, 0)
        if address in (None, ctypes.c_void_p(-1).value):
            raise AdapterError(f"cannot attach the coverage map: {os.strerror(ctypes.get_errno())}")
        self.address = int(address)
        _libc.shmctl(self.shm_id, _IPC_RMID, None)
        self._attached = True

    def close(self) -> None:
        # Never detached while a fuzzer may still hold the address: only at interpreter exit.
        pass


def hash_range(url: str, start: int, end: int, size: int) -> int:
    """The map slot of one V8 block: FNV-1a of url, start and end, the same hash the Node preload uses."""
    h = 0x811C9DC5
    for byte in f"{url}\x00{start}\x00{end}".encode("utf-8", "surrogatepass"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h % size


def fill_from_v8(counters: np.ndarray[Any, np.dtype[np.uint8]], scripts: Any, include: Sequence[str]) -> None:
    """Add V8 precise-coverage counts (``takePreciseCoverage``'s ``result``) of the included scripts to ``counters``."""
    if not isinstance(scripts, list):
        return
    for script in scripts:
        url = script.get("url") if isinstance(script, dict) else None
        if not isinstance(url, str) or not any(part in url for part in include):
            continue
        for function in script.get("functions") or []:
            for r in function.get("ranges") or [] if isinstance(function, dict) else []:
                count, start, end = r.get("count"), r.get("startOffset"), r.get("endOffset")
                if isinstance(count, int) and count > 0 and isinstance(start, int) and isinstance(end, int):
                    slot = hash_range(url, start, end, len(counters))
                    counters[slot] = min(255, int(counters[slot]) + count)


# ---------------------------------------------------------------------------
# Channels
# ---------------------------------------------------------------------------


class Channel:
    """Where a map's counts come from. ``kind`` names it in the progress line and the summary."""

    kind = "none"

    def __init__(self, map: CounterMap | None) -> None:
        self.map = map
        self.problem: str | None = None  # why it was dropped

    def begin(self) -> None:
        if self.map is not None:
            self.map.clear()

    def end(self) -> None:
        """Bring the counts of the input just run into the map."""

    def close(self) -> None:
        if self.map is not None:
            self.map.close()


_CMPLOG_ENTRY = np.dtype([("constant", "<u8"), ("value", "<u8"), ("width", "<u8")])


class NativeChannel(Channel):
    kind = "native"

    def __init__(self, map: SharedMap) -> None:
        super().__init__(map)
        self.shared = map
        self._count = ctypes.c_uint32.from_address(map.address + map.size)
        self._log = np.ctypeslib.as_array((ctypes.c_uint8 * (24 * CMPLOG_ENTRIES)).from_address(
            map.address + map.size + 16)).view(_CMPLOG_ENTRY)

    def begin(self) -> None:
        super().begin()
        self._count.value = 0

    def hints(self) -> bytes:
        """The log of the input just run, raw: most inputs are never mutated again, so ``decode_hints``
        turns it into hints only for those that are."""
        return self._log[:min(int(self._count.value), CMPLOG_ENTRIES)].tobytes()


def decode_hints(log: bytes) -> set[tuple[int, int, int]]:
    """(width, constant, value) of the comparisons against constants that failed, from ``hints``."""
    entries = np.frombuffer(log, dtype=_CMPLOG_ENTRY)
    width = entries["width"]
    keep = (width == 1) | (width == 2) | (width == 4) | (width == 8)
    return set(zip(width[keep].tolist(), entries["constant"][keep].tolist(),
                   entries["value"][keep].tolist()))


_V8_ENTRY = np.dtype([("slot", ">u4"), ("hits", "u1")])


class V8SocketChannel(Channel):
    """The harness's end of fuzz/runtime/v8-coverage.mjs: b"t" asks; the answer is a 4-byte count n,
    then n entries of a 4-byte slot and a 1-byte hit count."""

    kind = "v8"

    def __init__(self, listener: socket.socket, map: CounterMap, timeout: float) -> None:
        super().__init__(map)
        self.listener = listener
        self.timeout = timeout
        self.conn: socket.socket | None = None

    def accept(self, wait: float) -> bool:
        self.listener.settimeout(wait)
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return False
        if self.conn is not None:
            self.conn.close()
        conn.settimeout(self.timeout)
        self.conn = conn
        return True

    def end(self) -> None:
        if self.conn is None or self.map is None:
            return
        try:
            self.conn.sendall(b"t")
            (n,) = struct.unpack(">I", self._read(4))
            if n > self.map.size:
                raise OSError(f"{n} blocks in a map of {self.map.size}")
            entries = np.frombuffer(self._read(5 * n), dtype=_V8_ENTRY)
            if n and int(entries["slot"].max()) >= self.map.size:
                raise OSError("a block slot outside the map")
            self.map.view()[entries["slot"]] = entries["hits"]
        except (OSError, struct.error) as e:
            # A restarted process connects again; until then this input has no coverage.
            self.conn.close()
            self.conn = None
            if not self.accept(0.5):
                self.problem = f"coverage socket lost: {e}"

    def _read(self, n: int) -> bytes:
        assert self.conn is not None
        chunks, got = [], 0
        while got < n:
            chunk = self.conn.recv(min(1 << 16, n - got))
            if not chunk:
                raise OSError("coverage socket closed")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        for s in (self.conn, self.listener):
            if s is not None:
                s.close()


@dataclass(frozen=True)
class ReportFiles:
    """Where a process writes source-level coverage for the report (report mode only)."""

    directory: Path
    binary: Path | None = None  # the instrumented native program, for llvm-cov


def _env_argv(env: dict[str, str], argv: Sequence[str]) -> list[str]:
    return ["env", *(f"{k}={v}" for k, v in env.items()), *argv]


class SubprocessCoverage:
    """Starts one program with every channel offered and keeps the one it answered on."""

    def __init__(self, name: str, argv: Sequence[str], options: Options, include: Sequence[str] | None,
                 report: Path | None, cwd: Path | None) -> None:
        self.tmp = tempfile.mkdtemp(prefix="sframe-cov-")
        self.shared = SharedMap(NATIVE_MAP_SIZE + CMP_MAP_SIZE, NATIVE_MAP_SIZE, CMPLOG_BYTES)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock_path = os.path.join(self.tmp, "v8.sock")
        self.listener.bind(sock_path)
        self.listener.listen(4)
        env = {"__AFL_SHM_ID": str(self.shared.shm_id), "AFL_MAP_SIZE": str(NATIVE_MAP_SIZE),
               "SFRAME_COVERAGE_CMP_SIZE": str(CMP_MAP_SIZE), "SFRAME_COVERAGE_CMPLOG": str(CMPLOG_ENTRIES),
               "SFRAME_COVERAGE_SOCKET": sock_path, "SFRAME_COVERAGE_MAP_SIZE": str(V8_MAP_SIZE),
               "SFRAME_COVERAGE_INCLUDE": os.environ.get("SFRAME_COVERAGE_INCLUDE") or ",".join(include or ()),
               "NODE_OPTIONS": f"{os.environ.get('NODE_OPTIONS', '')} --import={V8_PRELOAD.as_uri()}".strip(),
               # A leak report at exit names no input; crashes and memory errors still abort.
               "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=1"),
               "LLVM_PROFILE_FILE": str(report / f"{_slug(name)}-%p.profraw") if report else "/dev/null"}
        if report:
            env["NODE_V8_COVERAGE"] = str(report / f"{_slug(name)}-v8")
        self.adapter = SubprocessAdapter(_env_argv(env, argv), name=name, timeout=options.timeout,
                                         window=options.window, cwd=cwd)
        self.channel: Channel
        if self.shared.view().any():
            self.listener.close()
            self.channel = NativeChannel(self.shared)
        else:
            v8 = V8SocketChannel(self.listener, CounterMap(V8_MAP_SIZE), options.timeout)
            self.channel = v8 if v8.accept(CONNECT_WAIT) else Channel(None)
            if self.channel is not v8:
                self.listener.close()

    def close(self) -> None:
        self.adapter.close()
        self.channel.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:60]


# ---------------------------------------------------------------------------
# The browser: CDP on the worker's target
# ---------------------------------------------------------------------------


class CdpChannel(Channel):
    """V8 precise coverage of the shim's worker. The page's CDP session auto-attaches to workers
    (paused at start, so coverage is on before the shim's code is compiled) in non-flat mode,
    and speaks to the worker through Target.sendMessageToTarget."""

    kind = "cdp"

    def __init__(self, include: Sequence[str], timeout: float) -> None:
        super().__init__(CounterMap(V8_MAP_SIZE))
        self.include = tuple(include)
        self.timeout = timeout
        self.session: Any = None  # the BrowserSession this channel is attached to
        self._cdp: Any = None
        self._worker: str | None = None  # sessionId of the newest worker
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._next = 0
        self.last_scripts: Any = None

    async def _attach(self, page: Any) -> None:
        self._cdp = await page.context.new_cdp_session(page)
        self._cdp.on("Target.attachedToTarget", self._on_attached)
        self._cdp.on("Target.receivedMessageFromTarget", self._on_message)
        await self._cdp.send("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": True,
                                                      "flatten": False})

    def attach(self, session: Any) -> None:
        if self.session is session:
            return
        self.session = session
        session.run(self._attach(session.page), self.timeout + 5)

    def _on_attached(self, event: dict[str, Any]) -> None:
        info = event.get("targetInfo") or {}
        sid = event.get("sessionId")
        if not isinstance(sid, str):
            return
        if info.get("type") == "worker":
            self._worker = sid
            for method, params in (("Profiler.enable", {}),
                                   ("Profiler.startPreciseCoverage", {"callCount": True, "detailed": True})):
                asyncio.ensure_future(self._post(sid, method, params))
        asyncio.ensure_future(self._post(sid, "Runtime.runIfWaitingForDebugger", {}))

    def _on_message(self, event: dict[str, Any]) -> None:
        try:
            message = json.loads(event.get("message", ""))
        except ValueError:
            return
        ident = message.get("id") if isinstance(message, dict) else None
        future = self._pending.pop(ident, None) if isinstance(ident, int) else None
        if future is not None and not future.done():
            future.set_result(message)

    async def _post(self, sid: str, method: str, params: dict[str, Any]) -> Any:
        self._next += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[self._next] = future
        await self._cdp.send("Target.sendMessageToTarget", {
            "sessionId": sid, "message": json.dumps({"id": self._next, "method": method, "params": params})})
        return await asyncio.wait_for(future, self.timeout)

    def take(self) -> Any:
        """``takePreciseCoverage`` of the current worker (it resets V8's counts)."""
        if self._worker is None or self.session is None:
            return None
        reply = self.session.run(self._post(self._worker, "Profiler.takePreciseCoverage", {}), self.timeout + 5)
        result = reply.get("result") if isinstance(reply, dict) else None
        return result.get("result") if isinstance(result, dict) else None

    def end(self) -> None:
        if self.map is None:
            return
        try:
            scripts = self.take()
        except Exception as e:  # noqa: BLE001 - a browser that went away: the adapter reports it
            self.problem = one_line(f"CDP coverage failed: {type(e).__name__}: {e}")
            return
        fill_from_v8(self.map.view(), scripts, self.include)


class CoverageBrowserAdapter(BrowserAdapter):
    """The browser adapter with a CDP coverage channel attached before each worker starts."""

    def __init__(self, shim: BrowserShim, channel: CdpChannel, timeout: float, window: int) -> None:
        self.channel = channel
        super().__init__(shim, timeout=timeout, window=window)

    def _start_worker(self) -> Any:
        self.channel.attach(self.session)
        return super()._start_worker()


# ---------------------------------------------------------------------------
# The adapter
# ---------------------------------------------------------------------------


class CoverageAdapter(Adapter):
    """An implementation with its coverage channel. ``edges`` counts the map slots ever hit."""

    def __init__(self, name: str, inner: Adapter, channel: Channel, closer: Any = None,
                 report: ReportFiles | None = None) -> None:
        self.name = name
        self.inner = inner
        self.hello = inner.hello
        self.channel = channel
        self._closer = closer or inner
        self.report = report
        self.seen: np.ndarray[Any, np.dtype[np.uint8]] | None = (
            np.zeros(channel.map.size, dtype=np.uint8) if channel.map is not None else None)
        self._said_problem = False

    @property
    def kind(self) -> str:
        return self.channel.kind

    @property
    def restarts(self) -> int:  # type: ignore[override]
        return self.inner.restarts

    @property
    def map(self) -> CounterMap | None:
        return self.channel.map if self.channel.problem is None else None

    def begin(self) -> None:
        self.channel.begin()

    def hints(self) -> bytes:
        """Input-to-state hints of the input just run, for ``decode_hints`` (native programs with our
        runtime; else none)."""
        return self.channel.hints() if isinstance(self.channel, NativeChannel) else b""

    def end(self) -> None:
        self.channel.end()
        if self.channel.problem is not None and not self._said_problem:
            self._said_problem = True
            print(f"harness: {for_terminal(self.name)}: {for_terminal(self.channel.problem)}; "
                  "fuzzing it without coverage from now on", file=sys.stderr)
        if self.seen is not None and self.channel.map is not None:
            edges = self.channel.map.edge_size  # what ``edges`` counts; the comparison feedback is libFuzzer's
            np.maximum(self.seen[:edges], self.channel.map.view()[:edges], out=self.seen[:edges])

    @property
    def edges(self) -> int | None:
        if self.seen is None or self.channel.map is None:
            return None
        return int(np.count_nonzero(self.seen[:self.channel.map.edge_size]))

    def status(self) -> str:
        """One line: which channel, or that there is none."""
        if self.kind == "atheris":
            return f"{self.name}: Python coverage by atheris (in process)"
        if self.channel.map is None:
            return (f"{self.name}: no coverage instrumentation found (no edge in __AFL_SHM_ID's map, no V8 "
                    "connection): fuzzed without coverage")
        what = {"native": "native edges in shared memory (__AFL_SHM_ID)", "v8": "V8 block coverage (Node inspector)",
                "cdp": "V8 block coverage (Chromium DevTools protocol)"}[self.kind]
        return f"{self.name}: {what}"

    def run(self, requests: Sequence[Request]) -> list[Response]:
        return self.inner.run(requests)

    def close(self) -> None:
        if isinstance(self.channel, CdpChannel) and self.report is not None:
            try:
                (self.report.directory / f"{_slug(self.name)}-cdp.json").write_text(
                    json.dumps({"result": self.channel.take()}))
            except Exception as e:  # noqa: BLE001 - the report says what is missing
                print(f"harness: {for_terminal(self.name)}: no browser coverage for the report: {e}", file=sys.stderr)
        self._closer.close()
        self.channel.close()


class AtherisChannel(Channel):
    kind = "atheris"


def variant(spec: str) -> str:
    """The coverage build of a bundled implementation (its ``coverage_build``), when it is built; else ``spec``."""
    impl = REGISTRY.get(spec)
    name = impl.coverage_build if impl is not None else None
    if name is not None and REGISTRY[name].unavailable() is None:
        return name
    return spec


def v8_sources(spec: str) -> tuple[str, ...]:
    """Substrings of the URLs of the implementation's own scripts (empty: every file: script but the preload)."""
    impl = REGISTRY.get(split_name(spec)[1])
    return impl.v8_sources if impl is not None else ()


def open_coverage_adapter(spec: str, options: Options | None = None, report: Path | None = None,
                          taken: set[str] | None = None) -> CoverageAdapter:
    """Start ``spec`` with its coverage channel; AdapterError has a one-line reason. Names are given as
    ``open_adapter`` gives them (``NAME=cmd:...``, else the program's hello name, unique against ``taken``).

    ``report``: a directory for source-level coverage (llvm-cov profiles, V8 JSON)."""
    options = options or Options()
    name, spec = split_name(spec)
    if report is not None:
        report.mkdir(parents=True, exist_ok=True)
    if spec == "python":
        return CoverageAdapter(spec, PythonAdapter(), AtherisChannel(None))
    impl = REGISTRY.get(spec)
    if impl is not None and impl.kind == "browser":
        assert impl.browser is not None
        reason = unavailable_reason() or impl.unavailable()
        if reason is not None:
            raise AdapterError(reason)
        channel = CdpChannel(impl.v8_sources, options.timeout)
        adapter = CoverageBrowserAdapter(impl.browser, channel, options.timeout, options.window)
        return CoverageAdapter(spec, adapter, channel, report=ReportFiles(report) if report else None)
    if spec.startswith("cmd:"):
        import shlex

        try:
            argv = shlex.split(spec[4:])
        except ValueError as e:
            raise AdapterError(f"cannot parse the command line of {spec!r}: {e}") from None
        cwd = None
    elif impl is not None and impl.kind == "subprocess" and impl.argv:
        if (reason := impl.unavailable()) is not None:
            raise AdapterError(reason)
        argv, cwd = list(impl.argv), ROOT if in_checkout() else None
    elif impl is not None:
        raise AdapterError(f"{spec} has no coverage channel (kind {impl.kind})")
    else:
        raise AdapterError(f"unknown implementation {spec!r}; known: {', '.join(sorted(REGISTRY))}, or cmd:COMMAND")
    if not argv:
        raise AdapterError("cmd: needs a command line")
    started = SubprocessCoverage(name or spec, argv, options, v8_sources(spec), report, cwd)
    if name is None and spec.startswith("cmd:"):
        name = program_name(started.adapter.hello.name, spec[4:])
    name = unique_name(name or spec, taken) if taken is not None else (name or spec)
    started.adapter.name = name
    binary = shutil.which(argv[0], path=os.environ.get("PATH")) or argv[0]
    return CoverageAdapter(name, started.adapter, started.channel, closer=started,
                           report=ReportFiles(report, Path(binary)) if report else None)


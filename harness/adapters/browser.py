"""The browser adapter: SFrame implementations running in headless Chromium.

Direct mode: the page (implementations/browser/www/index.html) starts one
dedicated worker per implementation, and that worker runs the project's own
Node stdio shim (implementations/js/server.mjs or implementations/medooze/
shim.mjs) unchanged, with small stand-ins for the few `node:*` modules they
import. Requests go in as batches of wire-protocol lines through
``page.evaluate``, so the browser applies exactly the op mapping that
``--impl js`` / ``--impl medooze`` apply in Node, over Chromium's WebCrypto.

``BrowserSession`` (Chromium + the static server + a private event loop) is
shared with the media mode in ``harness.sfu``.
"""

from __future__ import annotations

import asyncio
import atexit
import gc
import math
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

from ..locations import IMPLEMENTATIONS
from ..model.protocol import ProtocolError, encode_line
from ..model.text import clip, one_line
from ..model.wire import Hello, Request, Response, response_from_line
from .base import Adapter, AdapterError, RestartingAdapter

WWW = IMPLEMENTATIONS / "browser" / "www"

DEFAULT_CHROMIUM = Path("/usr/bin/chromium")
INSTALL_HINT = "headless Chromium not found: run `apt-get install -y chromium` (Debian's package; set SFRAME_CHROMIUM to use another binary)"

# --headless=new is passed explicitly, so Playwright's own --headless is dropped.
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",  # we run as root
    "--no-first-run",
    "--disable-background-networking",  # offline: no update, safe-browsing or metrics traffic
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",  # a synthetic camera and microphone for the media mode
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",  # without it ICE gathers no candidate on 127.0.0.1
)
# Set in the environment of the browser this session starts, so that close() finds every process of it.
SESSION_ENV = "SFRAME_BROWSER_SESSION"
NATIVE_SFRAME_APIS = ("SFrameTransform", "RTCSFrameSenderTransform", "RTCSFrameReceiverTransform")

T = TypeVar("T")


def chromium_path() -> Path | None:
    path = Path(os.environ.get("SFRAME_CHROMIUM", DEFAULT_CHROMIUM))
    return path if path.is_file() and os.access(path, os.X_OK) else None


def unavailable_reason() -> str | None:
    """Why no browser can run here, in one line, or None when one can."""
    if chromium_path() is None:
        return INSTALL_HINT
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed: run `.venv/bin/pip install -e '.[dev]'`"
    return None


# ---------------------------------------------------------------------------
# Static files on 127.0.0.1 (a secure context, so crypto.subtle exists)
# ---------------------------------------------------------------------------

# URL prefix -> directory. Only these trees are served.
_ROOTS: dict[str, Path] = {
    "/www/": WWW,
    "/js/": IMPLEMENTATIONS / "js",
    "/medooze/lib/": IMPLEMENTATIONS / "medooze" / "node_modules" / "sframe" / "lib",
    "/medooze/": IMPLEMENTATIONS / "medooze",
}
# The Node stdio shims are served with their module specifiers rewritten:
# workers have no import maps, so `node:readline` etc. must become URLs of the
# stand-ins in www/node/, and the medooze shim's bare `sframe/lib/...` the
# served copy of the npm package. The shims' source files are not modified.
_NODE_SHIMS = {IMPLEMENTATIONS / "js" / "server.mjs", IMPLEMENTATIONS / "medooze" / "shim.mjs"}
_NODE_SPECIFIER = re.compile(r"""(["'])node:([a-z_/]+)\1""")
_MEDOOZE_SPECIFIER = re.compile(r"""(["'])sframe/lib/""")
_TYPES = {".mjs": "text/javascript", ".js": "text/javascript", ".html": "text/html", ".json": "application/json"}


def _rewrite_node_shim(source: str) -> str:
    source = _NODE_SPECIFIER.sub(lambda m: f"{m[1]}/www/node/{m[2]}.mjs{m[1]}", source)
    return _MEDOOZE_SPECIFIER.sub(lambda m: f"{m[1]}/medooze/lib/", source)


def _resolve(url_path: str) -> Path | None:
    path = url_path.split("?", 1)[0]
    for prefix, directory in _ROOTS.items():
        if path.startswith(prefix):
            candidate = (directory / path[len(prefix) :]).resolve()
            if candidate.is_relative_to(directory.resolve()) and candidate.is_file():
                return candidate
            return None
    return None


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = _resolve(self.path)
        if path is None or path.suffix not in _TYPES:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        body = path.read_bytes()
        if path in _NODE_SHIMS:
            body = _rewrite_node_shim(body.decode()).encode()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", _TYPES[path.suffix] + "; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the page's console and the adapter's faults say what matters


class StaticServer:
    def __init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, name="sframe-static", daemon=True).start()

    def url(self, path: str) -> str:
        return self.origin + path

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# ---------------------------------------------------------------------------
# Chromium
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """What the started browser is and offers."""

    browser: str  # e.g. "HeadlessChrome/156.0.8078.108"
    version: str
    script_transform: bool  # RTCRtpScriptTransform exists
    native_sframe: tuple[str, ...]  # which of NATIVE_SFRAME_APIS exist
    launch_seconds: float

    @property
    def native_line(self) -> str:
        if self.native_sframe:
            return f"native SFrame API in Chromium {self.version}: {', '.join(self.native_sframe)}"
        return f"native SFrame API: not available in Chromium {self.version} ({', '.join(NATIVE_SFRAME_APIS)} undefined)"

    def as_dict(self) -> dict[str, Any]:
        return {"browser": self.browser, "version": self.version, "script_transform": self.script_transform,
                "native_sframe": list(self.native_sframe), "native_sframe_available": bool(self.native_sframe),
                "launch_seconds": round(self.launch_seconds, 3)}


def _kill_processes_of(root: str) -> None:
    """SIGKILL any process still running that this session started: Chromium and its
    children carry ``SESSION_ENV=root`` in their environment (and the browser also
    ``--user-data-dir`` under root on its command line).

    Playwright closes the browser itself; this only catches leftovers after a
    failed or interrupted close. ``root`` is a fresh temp dir, so only processes
    this session started match."""
    markers = (f"--user-data-dir={root}/".encode(), f"{SESSION_ENV}={root}\0".encode())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if markers[0] in (entry / "cmdline").read_bytes() or markers[1] in (entry / "environ").read_bytes():
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue


# Chromium makes its singleton socket in TMPDIR/.org.chromium.Chromium.XXXXXX/: a Unix socket path
# has at most 107 bytes, so a deep TMPDIR (a test's tmp_path) would stop it from starting.
_MAX_TMP = 56


def _short_tmp(root: str) -> str:
    """A directory for the browser's TMPDIR: inside ``root`` when that path is short, else a fresh
    one under /tmp; close() removes either."""
    inside = os.path.join(root, "tmp")
    if len(inside) <= _MAX_TMP:
        os.mkdir(inside)
        return inside
    return tempfile.mkdtemp(prefix="sframe-browser-tmp-", dir="/tmp")


def _exit_on_sigterm() -> None:
    """Make SIGTERM unwind like Ctrl-C does, so close() and atexit still run.

    Python's default SIGTERM ends the process at once, leaving Chromium to
    Playwright's driver and the profile directory behind. Only a default
    handler is replaced, and only from the main thread (where handlers live)."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        def terminate(signum: int, frame: object) -> None:
            raise SystemExit(128 + signum)

        signal.signal(signal.SIGTERM, terminate)


class BrowserSession:
    """One headless Chromium with the host page open, driven from a private
    event-loop thread so callers can be synchronous (the Adapter interface) or
    run their own asyncio code in that loop (the media mode, with aiortc).

    Everything it starts is stopped by close(), which also runs at interpreter
    exit; every call into it has a deadline."""

    def __init__(self, launch_timeout: float = 60.0, console_lines: int = 50) -> None:
        executable = chromium_path()
        if executable is None:
            raise AdapterError(INSTALL_HINT)
        self.executable = executable
        self.console: deque[str] = deque(maxlen=console_lines)
        self._closed = False
        self._loop = asyncio.new_event_loop()
        # Errors nobody awaits (the driver's connection after Ctrl-C) go to the console log, not to stderr.
        self._loop.set_exception_handler(lambda loop, context: self.console.append(f"loop: {context.get('message')}"))
        self._thread = threading.Thread(target=self._loop.run_forever, name="sframe-browser", daemon=True)
        self._thread.start()
        self.server = StaticServer()
        # One directory holds everything the browser writes (profile, and its TMPDIR, where Chromium
        # and Playwright's driver put their temporary directories, unless its path is too long for
        # Chromium's socket: see _short_tmp), so close() removes it in one go.
        self.root = tempfile.mkdtemp(prefix="sframe-browser-")
        self.user_data_dir = os.path.join(self.root, "profile")
        self.tmp = _short_tmp(self.root)
        self._playwright: Any = None
        self.context: Any = None
        self.page: Any = None
        atexit.register(self.close)
        _exit_on_sigterm()
        try:
            self.probe = self.run(self._launch(), launch_timeout)
        except AdapterError:
            self.close()
            raise
        except Exception as e:  # Playwright's errors, TimeoutError: one line for the CLI
            self.close()
            raise AdapterError(f"cannot start Chromium ({executable}): {type(e).__name__}: {e}".splitlines()[0]) from None
        except BaseException:  # Ctrl-C while starting
            self.close()
            raise

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run ``coro`` in the session's loop; TimeoutError after ``timeout`` seconds (the coroutine is cancelled)."""
        if self._closed:
            coro.close()
            raise AdapterError("browser session is closed")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except BaseException:
            future.cancel()  # also on Ctrl-C: nothing keeps running in the loop
            raise

    async def _launch(self) -> Probe:
        from playwright.async_api import async_playwright

        started = time.perf_counter()
        # Playwright's driver copies os.environ when it starts and keeps its artifacts in its
        # TMPDIR: point that at this session's directory for the moment it starts, so that a
        # driver killed by Ctrl-C leaves nothing behind that close() does not remove.
        # (tempfile's own directory is already fixed: mkdtemp above has cached it.)
        saved = os.environ.get("TMPDIR")
        os.environ["TMPDIR"] = self.tmp
        try:
            self._playwright = await async_playwright().start()
        finally:
            if saved is None:
                del os.environ["TMPDIR"]
            else:
                os.environ["TMPDIR"] = saved
        self.context = await self._playwright.chromium.launch_persistent_context(
            self.user_data_dir,
            executable_path=str(self.executable),
            headless=True,
            ignore_default_args=["--headless"],
            args=list(CHROMIUM_FLAGS),
            env={**os.environ, "TMPDIR": self.tmp, SESSION_ENV: self.root},
        )
        self.page = self.context.pages[0] if self.context.pages else await self.context.new_page()
        self.page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))
        self.page.on("pageerror", lambda error: self.console.append(f"pageerror: {error}"))
        await self.page.goto(self.server.url("/www/index.html"))
        await self.page.wait_for_function("window.hostReady === true", timeout=10_000)
        info = await self.page.evaluate("host.probe()")
        if not info["secureContext"]:
            raise AdapterError(f"{self.server.origin} is not a secure context: crypto.subtle is missing")
        # The user agent string is reduced (156.0.0.0); the DevTools protocol has the full version.
        cdp = await self.context.new_cdp_session(self.page)
        product = (await cdp.send("Browser.getVersion"))["product"]
        await cdp.detach()
        match = re.search(r"(HeadlessChrome|Chrome|Chromium)/([\d.]+)", product)
        browser, version = (match[0], match[2]) if match else (product, "?")
        return Probe(browser, version, bool(info["scriptTransform"]), tuple(info["nativeSFrame"]),
                     time.perf_counter() - started)

    async def _shutdown(self) -> None:
        try:
            if self.context is not None:
                await self.context.close()
        finally:
            if self._playwright is not None:
                await self._playwright.stop()
            else:
                # A launch interrupted half-way: let its cancellation finish and its pipes be
                # collected while this loop still runs, not at interpreter exit after it closed.
                await asyncio.sleep(0.05)
                gc.collect()

    def close(self) -> None:
        if self._closed:
            return
        try:
            self.run(self._shutdown(), 15)
        except Exception:  # noqa: BLE001 - the leftovers sweep below still ends the browser
            pass  # (Ctrl-C is not caught: it runs the sweep, then goes on to stop the run)
        finally:
            self._closed = True
            atexit.unregister(self.close)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            _kill_processes_of(self.root)
            shutil.rmtree(self.root, ignore_errors=True)
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.server.close()


# ---------------------------------------------------------------------------
# Direct mode
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BrowserShim:
    """A Node stdio shim the page runs in a worker (the registry lists them: ``Implementation.browser``)."""

    name: str
    url_path: str  # served by StaticServer


class BrowserAdapter(RestartingAdapter):
    """Direct mode: one shim in a worker of its own browser session. After a fault the
    worker is restarted, or the whole browser when the page itself stopped answering."""

    def __init__(self, shim: BrowserShim, timeout: float = 5.0, window: int = 64,
                 launch_timeout: float = 60.0) -> None:
        self.name = shim.name
        self.shim = shim
        self.timeout = timeout
        self.window = window
        self.launch_timeout = launch_timeout
        self.restarts = 0
        self._next_id = 0
        self._whole_browser = False  # what the last fault needs restarted
        self.session = BrowserSession(launch_timeout)
        self.probe = self.session.probe
        try:
            self.hello = self._start_worker()
        except BaseException:
            self.close()
            raise

    def _start_worker(self) -> Hello:
        """Start the shim's worker and check its hello; AdapterError says why it is unusable."""
        try:
            self.session.run(self.session.page.evaluate("([n, p]) => host.startShim(n, p)",
                                                        [self.name, self.shim.url_path]), self.timeout + 5)
        except AdapterError:
            raise
        except Exception as e:  # Playwright's errors, TimeoutError
            raise AdapterError(f"{self.name}: cannot start the worker: {type(e).__name__}: {e}".splitlines()[0]) from None
        results: list[Response] = []
        self._run_until_fault([Request("hello")], results)
        hello = results[0]
        if not hello.ok:
            raise AdapterError(f"{self.name} failed hello: {hello.fault or f'{hello.error}: {hello.message}'}")
        try:
            return Hello.from_fields(hello.fields)
        except ProtocolError as e:
            raise AdapterError(f"{self.name} gave a bad hello: {e}") from None

    def _replace(self) -> None:
        if self._whole_browser:
            self.session.close()
            self.session = BrowserSession(self.launch_timeout)
        self._start_worker()

    def close(self) -> None:
        self.session.close()

    def _run_until_fault(self, requests: Sequence[Request], results: list[Response]) -> bool:
        ids = list(range(self._next_id, self._next_id + len(requests)))
        self._next_id += len(requests)
        lines: list[str | Response] = []
        for request_id, r in zip(ids, requests):
            try:
                lines.append(encode_line({"id": request_id, "op": r.op, **r.fields}).decode().rstrip("\n"))
            except (TypeError, ValueError) as e:
                lines.append(Response(False, error="invalid_argument", message=f"harness could not encode request: {e}"))
        sendable = [line for line in lines if isinstance(line, str)]
        # The page enforces the deadline and returns what was answered by then;
        # the outer deadline only catches a page that stopped answering at all.
        deadline = self.timeout * max(1, math.ceil(len(sendable) / self.window))
        started = time.perf_counter()
        try:
            reply = self.session.run(
                self.session.page.evaluate("([n, l, t]) => host.runBatch(n, l, t)",
                                           [self.name, sendable, deadline * 1000]),
                deadline + 10,
            )
        except Exception as e:  # a crashed page, a Playwright error, the outer deadline
            results.append(Response.faulted(one_line(f"browser stopped answering: {type(e).__name__}: {clip(str(e), 500)}")))
            self._whole_browser = True
            return False
        if not isinstance(reply, dict):
            reply = {}
        answered: list[str] = reply["lines"] if isinstance(reply.get("lines"), list) else []
        each = (time.perf_counter() - started) / max(1, len(answered))
        self._whole_browser = False
        next_answer = 0
        for request_id, line in zip(ids, lines):
            if isinstance(line, Response):
                results.append(line)
                continue
            if next_answer >= len(answered):
                reason = "worker exited" if reply.get("exited") else f"timeout: no response within {deadline:g}s"
                tail = clip(" | ".join(map(str, reply.get("stderr") or [])), 1024)
                results.append(Response.faulted(one_line(f"{reason}; stderr: {tail}" if tail else reason)))
                return False
            answer = answered[next_answer]
            next_answer += 1
            response = response_from_line(answer.encode("utf-8", "surrogatepass") if isinstance(answer, str) else b"",
                                          request_id, "the worker")
            if response.fault is not None:
                results.append(response)
                return False
            results.append(Response(response.ok, response.fields, response.error, response.message, elapsed=each))
        return True


class UnavailableAdapter(Adapter):
    """Stands in for a browser implementation that cannot run here: every case
    is graded unsupported, with the one-line reason (how to install Chromium)."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        self.hello = Hello(name=name, version="unavailable", protocol=1, suites=(), capabilities=())

    def run(self, requests: Sequence[Request]) -> list[Response]:
        return [Response(False, error="unsupported", message=self.reason) for _ in requests]


def open_browser(shim: BrowserShim, timeout: float = 5.0, window: int = 64) -> Adapter:
    """The registry's factory for browser-*: the adapter, or UnavailableAdapter with a one-line hint on stderr."""
    reason = unavailable_reason()
    if reason is not None:
        print(f"harness: {shim.name}: {reason}; its cases are graded unsupported", file=sys.stderr)
        return UnavailableAdapter(shim.name, reason)
    adapter = BrowserAdapter(shim, timeout=timeout, window=window)
    print(f"harness: {shim.name}: {adapter.probe.browser}, started in {adapter.probe.launch_seconds:.1f}s; "
          f"{adapter.probe.native_line}", file=sys.stderr)
    return adapter

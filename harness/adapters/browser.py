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
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

from ..locations import IMPLEMENTATIONS
from ..model.protocol import encode_line
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


def _kill_processes_using(user_data_dir: str) -> None:
    """SIGKILL any process still running with our private --user-data-dir.

    Playwright closes the browser itself; this only catches leftovers after a
    failed close. The directory is a fresh temp dir, so only processes this
    session started match."""
    marker = f"--user-data-dir={user_data_dir}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker in (entry / "cmdline").read_bytes():
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue


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
        self._thread = threading.Thread(target=self._loop.run_forever, name="sframe-browser", daemon=True)
        self._thread.start()
        self.server = StaticServer()
        self.user_data_dir = tempfile.mkdtemp(prefix="sframe-chromium-")
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
        self._playwright = await async_playwright().start()
        self.context = await self._playwright.chromium.launch_persistent_context(
            self.user_data_dir,
            executable_path=str(self.executable),
            headless=True,
            ignore_default_args=["--headless"],
            args=list(CHROMIUM_FLAGS),
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

    def close(self) -> None:
        if self._closed:
            return
        try:
            if self._playwright is not None:
                self.run(self._shutdown(), 15)
        except BaseException:
            pass  # the leftovers sweep below still ends the browser
        finally:
            self._closed = True
            atexit.unregister(self.close)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            _kill_processes_using(self.user_data_dir)
            shutil.rmtree(self.user_data_dir, ignore_errors=True)
            self.server.close()


# ---------------------------------------------------------------------------
# Direct mode
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BrowserShim:
    """A Node stdio shim the page runs in a worker."""

    name: str
    url_path: str  # served by StaticServer
    requires: tuple[Path, ...] = field(default=())


BROWSER_SHIMS: dict[str, BrowserShim] = {
    shim.name: shim
    for shim in (
        BrowserShim("browser-js", "/js/server.mjs", (IMPLEMENTATIONS / "js" / "server.mjs",)),
        BrowserShim("browser-medooze", "/medooze/shim.mjs",
                    (IMPLEMENTATIONS / "medooze" / "shim.mjs", IMPLEMENTATIONS / "medooze" / "node_modules" / "sframe")),
    )
}


class BrowserAdapter(RestartingAdapter):
    """Direct mode: one shim in a worker of its own browser session."""

    def __init__(self, shim: BrowserShim, timeout: float = 5.0, window: int = 64,
                 max_consecutive_faults: int = 3, launch_timeout: float = 60.0) -> None:
        self.name = shim.name
        self.shim = shim
        self.timeout = timeout
        self.window = window
        self.max_consecutive_faults = max_consecutive_faults
        self.launch_timeout = launch_timeout
        self.restarts = 0
        self._next_id = 0
        self.session = BrowserSession(launch_timeout)
        self.probe = self.session.probe
        try:
            self._start_worker()
            hello = self.call(Request("hello"))
        except BaseException:
            self.close()
            raise
        if not hello.ok:
            self.close()
            raise AdapterError(f"{self.name} failed hello: {hello.message or hello.error}")
        self.hello = Hello.from_fields(hello.fields)

    def _start_worker(self) -> None:
        self.session.run(self.session.page.evaluate("([n, p]) => host.startShim(n, p)", [self.name, self.shim.url_path]),
                         self.timeout + 5)

    def _restart(self, whole_browser: bool) -> None:
        self.restarts += 1
        if whole_browser:
            self.session.close()
            self.session = BrowserSession(self.launch_timeout)
        self._start_worker()

    def close(self) -> None:
        self.session.close()

    def _run_until_fault(self, requests: Sequence[Request], results: list[Response]) -> bool:
        ids = list(range(self._next_id, self._next_id + len(requests)))
        self._next_id += len(requests)
        try:
            lines = [encode_line({"id": i, "op": r.op, **r.fields}).decode().rstrip("\n") for i, r in zip(ids, requests)]
        except (TypeError, ValueError) as e:
            results.append(Response(False, error="invalid_argument", message=f"harness could not encode request: {e}"))
            return True
        # The page enforces the deadline and returns what was answered by then;
        # the outer deadline only catches a page that stopped answering at all.
        deadline = self.timeout * max(1, math.ceil(len(lines) / self.window))
        started = time.perf_counter()
        try:
            reply = self.session.run(
                self.session.page.evaluate("([n, l, t]) => host.runBatch(n, l, t)", [self.name, lines, deadline * 1000]),
                deadline + 10,
            )
        except Exception as e:  # a crashed page, a Playwright error, the outer deadline
            results.append(Response.faulted(f"browser stopped answering: {type(e).__name__}: {e}".splitlines()[0]))
            self._restart(whole_browser=True)
            return False
        answered: list[str] = reply["lines"]
        each = (time.perf_counter() - started) / max(1, len(answered))
        for index, request_id in enumerate(ids):
            if index >= len(answered):
                reason = "worker exited" if reply["exited"] else f"timeout: no response within {deadline:g}s"
                tail = " | ".join(reply.get("stderr") or [])
                results.append(Response.faulted(f"{reason}; stderr: {tail}" if tail else reason))
                self._restart(whole_browser=False)
                return False
            response = response_from_line(answered[index].encode(), request_id, "the worker")
            if response.fault is not None:
                results.append(response)
                self._restart(whole_browser=False)
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


def open_browser(shim_name: str, timeout: float = 5.0, window: int = 64) -> Adapter:
    """The registry's factory for browser-*: the adapter, or UnavailableAdapter with a one-line hint on stderr."""
    reason = unavailable_reason()
    if reason is not None:
        print(f"harness: {shim_name}: {reason}; its cases are graded unsupported", file=sys.stderr)
        return UnavailableAdapter(shim_name, reason)
    adapter = BrowserAdapter(BROWSER_SHIMS[shim_name], timeout=timeout, window=window)
    print(f"harness: {shim_name}: {adapter.probe.browser}, started in {adapter.probe.launch_seconds:.1f}s; "
          f"{adapter.probe.native_line}", file=sys.stderr)
    return adapter

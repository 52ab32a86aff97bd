"""The subprocess adapter: any program speaking wire protocol v1 on stdio.

Requests are pipelined: up to ``window`` requests are in flight while the
caller reads responses in order. Every response has a deadline. A crash, hang,
garbage, an oversized message or an out-of-order response faults that one
request (with the implementation's last stderr bytes), the process is
replaced, and the batch carries on with the next request.

Rules of this module, because the program is not trusted:

- It runs in a session of its own, and stopping it kills the whole process
  group, then any other process still holding one of its pipes (a child that
  called ``setsid()`` and kept stdout open), so nothing it started outlives it.
- Each pipe belongs to one thread, which alone reads or writes its raw file
  descriptor and closes it when done. The caller never closes a pipe under a
  thread or waits for one: every wait has a bound, and Ctrl-C ends any of them.
- stdout is read in chunks through a ``Deframer``: at most one message
  (``MAX_MESSAGE``) is buffered, and every message is decoded and checked by
  the model's codecs before anything else sees it. Of stderr only a tail is kept.
- ``hello`` offers the binary-v1 framing; an answer with ``"framing":
  "binary-v1"`` switches both directions to it, anything else stays on JSON
  lines. Every replacement process is asked again.
"""

from __future__ import annotations

import atexit
import os
import queue
import shlex
import signal
import subprocess
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..model import framing
from ..model.protocol import ProtocolError, encode_line
from ..model.text import clip, one_line
from ..model.wire import Hello, Request, Response, response_from_line, response_from_message
from .base import AdapterError, RestartingAdapter

CHUNK = 1 << 16  # bytes per read from a pipe
STDERR_TAIL = 1024  # bytes of stderr a fault quotes
# What stdout may queue ahead of the adapter: a program answering what nobody asked waits here,
# it does not fill memory. More than the pipelining window ever needs.
QUEUED_BYTES = framing.MAX_MESSAGE
QUEUED_MESSAGES = 4096
CLOSE_GRACE = 1.0  # seconds an implementation has to exit after EOF on stdin, and again after SIGTERM
STARTUP = 5.0  # seconds hello may take at least, whatever the timeout: starting a runtime is not an op
_EOF = object()


def _pipe_holders(inodes: set[int]) -> Iterator[int]:
    """Processes other than this one with a descriptor on one of the pipes ``inodes`` (Linux /proc)."""
    targets = {f"pipe:[{inode}]" for inode in inodes}
    me = os.getpid()
    try:
        entries = list(os.scandir("/proc"))
    except OSError:
        return
    for entry in entries:
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            if any(os.readlink(fd.path) in targets for fd in os.scandir(f"/proc/{entry.name}/fd")):
                yield int(entry.name)
        except OSError:
            continue


_RUNNING: weakref.WeakSet[_Process] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    """At exit (a traceback, a forgotten close), nothing an adapter started keeps running."""
    for proc in list(_RUNNING):
        proc.stop(grace=0)


class _Process:
    """One running instance of the implementation and the three threads that own its pipes."""

    def __init__(self, argv: list[str], cwd: Path | None) -> None:
        fds = [*os.pipe(), *os.pipe(), *os.pipe()]
        stdin_r, stdin_w, stdout_r, stdout_w, stderr_r, stderr_w = fds
        try:
            self.popen = subprocess.Popen(argv, stdin=stdin_r, stdout=stdout_w, stderr=stderr_w, cwd=cwd,
                                          start_new_session=True)
        except (OSError, ValueError) as e:
            for fd in fds:
                os.close(fd)
            reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            raise AdapterError(f"cannot start {shlex.join(argv)}: {reason}") from None
        for fd in (stdin_r, stdout_w, stderr_w):
            os.close(fd)
        self.inodes = {os.fstat(fd).st_ino for fd in (stdin_w, stdout_r, stderr_r)}
        self.binary = False
        self._messages: queue.SimpleQueue[object] = queue.SimpleQueue()  # bytes, ProtocolError or _EOF
        self._room = threading.Condition()
        self._queued = [0, 0]  # messages, bytes
        self._stopping = False
        self._deframer = framing.Deframer()
        self._deframer_lock = threading.Lock()
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._stderr = bytearray()
        self._stderr_total = 0
        self._stderr_lock = threading.Lock()
        # Set when every writer has closed the pipe (a read gave EOF), not when the reader gave up early.
        self.stdout_closed = threading.Event()
        self.stderr_closed = threading.Event()
        for target, fd in ((self._read_stdout, stdout_r), (self._read_stderr, stderr_r), (self._write, stdin_w)):
            threading.Thread(target=target, args=(fd,), name=f"sframe-{target.__name__}", daemon=True).start()
        _RUNNING.add(self)

    # The three pipe threads.

    def _read_stdout(self, fd: int) -> None:
        try:
            while chunk := os.read(fd, CHUNK):
                with self._deframer_lock:
                    items = self._deframer.feed(chunk)
                if not self._queue(items) or self._deframer.broken:
                    break
            else:
                self.stdout_closed.set()
        except OSError:
            self.stdout_closed.set()
        finally:
            os.close(fd)
            self._messages.put(_EOF)

    def _read_stderr(self, fd: int) -> None:
        try:
            while chunk := os.read(fd, CHUNK):
                with self._stderr_lock:
                    self._stderr += chunk
                    self._stderr_total += len(chunk)
                    if len(self._stderr) > 4 * STDERR_TAIL:
                        del self._stderr[:-STDERR_TAIL]
        except OSError:
            pass
        finally:
            os.close(fd)
            self.stderr_closed.set()

    def _write(self, fd: int) -> None:
        try:
            while (payload := self._outbox.get()) is not None:
                batch = [payload]
                while len(batch) < 256:  # coalesce what is queued into one write
                    try:
                        more = self._outbox.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        self._outbox.put(None)
                        break
                    batch.append(more)
                data = memoryview(b"".join(batch))
                while data:
                    data = data[os.write(fd, data):]
        except OSError:
            pass  # the process is gone; its stdout reader reports it
        finally:
            os.close(fd)

    # What the adapter calls.

    def send(self, payload: bytes) -> None:
        self._outbox.put(payload)

    def use_binary(self) -> None:
        self.binary = True
        with self._deframer_lock:
            self._deframer.binary = True
            items = self._deframer.feed(b"")
        self._queue(items)

    def _queue(self, items: list[bytes | ProtocolError]) -> bool:
        """Hand messages to the adapter, waiting while too much is unread; False once stopping."""
        for item in items:
            size = len(item) if isinstance(item, bytes) else 0
            with self._room:
                while (self._queued[0] >= QUEUED_MESSAGES or self._queued[1] + size > QUEUED_BYTES) \
                        and self._queued[0] and not self._stopping:
                    self._room.wait(0.1)
                if self._stopping:
                    return False
                self._queued[0] += 1
                self._queued[1] += size
            self._messages.put(item)
        return True

    def take(self, timeout: float) -> object:
        """The next message, ProtocolError or _EOF; queue.Empty after ``timeout`` seconds."""
        item = self._messages.get(timeout=timeout)
        if item is not _EOF:
            with self._room:
                self._queued[0] -= 1
                self._queued[1] -= len(item) if isinstance(item, bytes) else 0
                self._room.notify()
        return item

    def stderr_tail(self) -> str:
        with self._stderr_lock:
            data, total = bytes(self._stderr[-STDERR_TAIL:]), self._stderr_total
        text = one_line(data.decode("utf-8", "replace"))
        return f"… {total - len(data)} bytes cut … {text}" if total > len(data) else text

    def exit_status(self, wait: float) -> int | None:
        try:
            return self.popen.wait(wait)
        except subprocess.TimeoutExpired:
            return None

    def _kill_group(self, sig: int) -> None:
        try:
            os.killpg(self.popen.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def stop(self, grace: float) -> None:
        """End the process and everything it started; ``grace`` seconds to exit after EOF, then after SIGTERM."""
        _RUNNING.discard(self)
        self._outbox.put(None)  # EOF on stdin: the implementation's cue to exit
        with self._room:
            self._stopping = True  # a stdout reader waiting for room stops reading
            self._room.notify_all()
        if grace > 0 and self.exit_status(grace) is None:
            self._kill_group(signal.SIGTERM)
            self.exit_status(grace)
        self._kill_group(signal.SIGKILL)
        self.exit_status(1.0)
        # Something outside the group (its own session) may still hold a pipe: the threads
        # would never see EOF. Find it by the pipes it holds, and kill it too.
        for _ in range(3):
            if self.stdout_closed.wait(0.1) and self.stderr_closed.wait(0.05):
                break
            for pid in _pipe_holders(self.inodes):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass


class SubprocessAdapter(RestartingAdapter):
    def __init__(
        self,
        argv: list[str] | str,
        name: str | None = None,
        timeout: float = 5.0,
        window: int = 64,
        cwd: Path | None = None,
        framings: Sequence[str] | None = None,
    ) -> None:
        try:
            self.argv = shlex.split(argv) if isinstance(argv, str) else list(argv)
        except ValueError as e:
            raise AdapterError(f"cannot parse the command line {clip(repr(argv), 200)}: {e}") from None
        if not self.argv:
            raise AdapterError("empty command line")
        self.name = name or "cmd:" + shlex.join(self.argv)
        self.timeout = timeout
        self.window = max(1, window)
        self.cwd = cwd
        # Offered in hello; None: every framing the harness has. () keeps JSON lines.
        self.framings = (framing.NAME,) if framings is None else tuple(framings)
        self.restarts = 0
        self._next_id = 0
        self._proc: _Process | None = None
        self._proc, self.hello = self._start()

    @property
    def framing(self) -> str:
        """The framing of the running process: ``binary-v1`` or ``json-lines``."""
        return framing.NAME if self._proc is not None and self._proc.binary else "json-lines"

    def _start(self) -> tuple[_Process, Hello]:
        """A fresh process that has answered hello (and switched framing if it chose to)."""
        proc = _Process(self.argv, self.cwd)
        try:
            request_id = self._next_id
            self._next_id += 1
            proc.send(encode_line({"id": request_id, "op": "hello", **({"framings": list(self.framings)}
                                                                      if self.framings else {})}))
            response = self._receive(proc, request_id, max(self.timeout, STARTUP))
            if not response.ok:
                raise AdapterError(f"{self.name} failed hello: {response.fault or f'{response.error}: {response.message}'}")
            try:
                hello = Hello.from_fields(response.fields)
            except ProtocolError as e:
                raise AdapterError(f"{self.name} gave a bad hello: {e}") from None
            chosen = response.fields.get("framing")
            if chosen is not None:
                if chosen not in self.framings:
                    raise AdapterError(f"{self.name} gave a bad hello: framing {clip(repr(chosen), 40)} was not offered")
                proc.use_binary()
            return proc, hello
        except BaseException:
            proc.stop(grace=0)
            raise

    def _replace(self) -> None:
        if self._proc is not None:
            self._proc.stop(grace=0)
            self._proc = None
        self._proc, _ = self._start()

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.stop(grace=CLOSE_GRACE)

    def _encode(self, proc: _Process, request_id: int, request: Request) -> bytes | Response:
        message = {"id": request_id, "op": request.op, **request.fields}
        try:
            return framing.encode(message) if proc.binary else encode_line(message)
        except (TypeError, ValueError, OverflowError) as e:
            return Response(False, error="invalid_argument", message=f"harness could not encode request: {e}")

    def _run_until_fault(self, requests: Sequence[Request], results: list[Response]) -> bool:
        proc = self._proc
        if proc is None:
            raise AdapterError(f"{self.name} is closed")
        first = self._next_id
        self._next_id += len(requests)
        payloads = [self._encode(proc, first + i, r) for i, r in enumerate(requests)]
        sent = 0
        for index, payload in enumerate(payloads):
            while sent < len(payloads) and sent < index + self.window:
                if isinstance(payloads[sent], bytes):
                    proc.send(payloads[sent])  # type: ignore[arg-type]
                sent += 1
            if isinstance(payload, Response):
                results.append(payload)
                continue
            start = time.perf_counter()
            response = self._receive(proc, first + index)
            if response.fault is not None:
                results.append(response)
                return False
            results.append(Response(response.ok, response.fields, response.error, response.message,
                                    elapsed=time.perf_counter() - start))
        return True

    def _receive(self, proc: _Process, request_id: int, timeout: float | None = None) -> Response:
        timeout = self.timeout if timeout is None else timeout
        try:
            item = proc.take(timeout)
        except queue.Empty:
            return self._fault(proc, f"timeout: no response within {timeout:g}s")
        if item is _EOF:
            return self._fault(proc, f"crashed: stdout closed (exit status {proc.exit_status(0.2)})")
        if isinstance(item, ProtocolError):
            return self._fault(proc, f"garbage on stdout: {item}")
        assert isinstance(item, bytes)
        if proc.binary:
            try:
                response = response_from_message(framing.decode(item), request_id)
            except ProtocolError as e:
                response = Response.faulted(f"garbage on stdout: {e}")
        else:
            response = response_from_line(item, request_id, "stdout")
        return self._fault(proc, response.fault) if response.fault is not None else response

    def _fault(self, proc: _Process, reason: str) -> Response:
        proc.stderr_closed.wait(0.05)  # let the stderr reader catch the implementation's last words
        tail = proc.stderr_tail()
        return Response.faulted(one_line(f"{reason}; stderr: {tail}" if tail else reason))


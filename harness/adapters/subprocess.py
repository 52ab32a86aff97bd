"""The subprocess adapter: any program speaking wire protocol v1 on stdio.

Requests are pipelined: a writer thread keeps up to ``window`` requests in
flight while the caller reads responses in order. Every response has a
deadline. A crash, hang, garbage line or out-of-order response faults that
one request (with the implementation's last stderr lines), the process is
restarted, and the batch carries on with the next request.
"""

from __future__ import annotations

import collections
import os
import queue
import shlex
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from ..model.protocol import encode_line
from ..model.wire import Hello, Request, Response, response_from_line
from .base import AdapterError, RestartingAdapter

_EOF = object()


class _Process:
    """One running instance of the implementation, with its reader threads."""

    def __init__(self, argv: list[str], cwd: Path | None, stderr_lines: int) -> None:
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=cwd,
                start_new_session=True,  # so a kill takes the shim's children too
            )
        except OSError as e:
            raise AdapterError(f"cannot start {shlex.join(argv)}: {e.strerror or e}") from None
        self.lines: queue.Queue[object] = queue.Queue()
        self.stderr: collections.deque[str] = collections.deque(maxlen=stderr_lines)
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(_EOF)

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line.decode(errors="replace").rstrip())

    def write_all(self, payloads: list[bytes], slots: threading.Semaphore, stop: threading.Event) -> None:
        assert self.proc.stdin is not None
        try:
            for payload in payloads:
                slots.acquire()
                if stop.is_set():
                    return
                self.proc.stdin.write(payload)
                self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass  # the process died; the reader side reports it

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, 9)
        except (ProcessLookupError, PermissionError):
            pass
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


class SubprocessAdapter(RestartingAdapter):
    def __init__(
        self,
        argv: list[str] | str,
        name: str | None = None,
        timeout: float = 5.0,
        window: int = 64,
        cwd: Path | None = None,
        max_consecutive_faults: int = 3,
    ) -> None:
        self.argv = shlex.split(argv) if isinstance(argv, str) else list(argv)
        if not self.argv:
            raise AdapterError("empty command line")
        self.name = name or "cmd:" + shlex.join(self.argv)
        self.timeout = timeout
        self.window = window
        self.cwd = cwd
        self.max_consecutive_faults = max_consecutive_faults
        self.restarts = 0
        self._next_id = 0
        self._proc: _Process | None = None
        response = self.call(Request("hello"))
        if not response.ok:
            self.close()
            raise AdapterError(f"{self.name} failed hello: {response.message or response.error}")
        self.hello = Hello.from_fields(response.fields)

    def _process(self) -> _Process:
        if self._proc is None:
            self._proc = _Process(self.argv, self.cwd, stderr_lines=20)
        return self._proc

    def _restart(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc = None
            self.restarts += 1

    def close(self) -> None:
        if self._proc is not None:
            proc = self._proc
            self._proc = None
            try:
                assert proc.proc.stdin is not None
                proc.proc.stdin.close()  # EOF asks the implementation to exit cleanly
                proc.proc.wait(timeout=1)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                pass
            proc.kill()

    def _run_until_fault(self, requests: Sequence[Request], results: list[Response]) -> bool:
        proc = self._process()
        ids = list(range(self._next_id, self._next_id + len(requests)))
        self._next_id += len(requests)
        try:
            payloads = [encode_line({"id": i, "op": r.op, **r.fields}) for i, r in zip(ids, requests)]
        except (TypeError, ValueError) as e:
            results.append(Response(False, error="invalid_argument", message=f"harness could not encode request: {e}"))
            return True
        slots = threading.Semaphore(self.window)
        stop = threading.Event()
        writer = threading.Thread(target=proc.write_all, args=(payloads, slots, stop), daemon=True)
        writer.start()
        try:
            for request_id in ids:
                start = time.perf_counter()
                response = self._read_response(proc, request_id)
                slots.release()
                if response.fault is not None:
                    results.append(response)
                    self._restart()
                    return False
                results.append(Response(response.ok, response.fields, response.error, response.message,
                                        elapsed=time.perf_counter() - start))
            return True
        finally:
            stop.set()
            slots.release(len(ids))

    def _read_response(self, proc: _Process, request_id: int) -> Response:
        try:
            line = proc.lines.get(timeout=self.timeout)
        except queue.Empty:
            return self._fault(proc, f"timeout: no response within {self.timeout:g}s")
        if line is _EOF:
            code = proc.proc.poll()
            if code is None:
                try:
                    code = proc.proc.wait(timeout=1)
                except subprocess.TimeoutExpired:
                    pass
            return self._fault(proc, f"crashed: stdout closed (exit status {code})")
        assert isinstance(line, bytes)
        response = response_from_line(line, request_id, "stdout")
        return self._fault(proc, response.fault) if response.fault is not None else response

    def _fault(self, proc: _Process, reason: str) -> Response:
        time.sleep(0.05)  # let the stderr reader catch the implementation's last words
        tail = " | ".join(list(proc.stderr)[-5:])
        return Response.faulted(f"{reason}; stderr: {tail}" if tail else reason)

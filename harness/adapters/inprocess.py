"""The in-process adapter: protocol ops mapped straight onto ``sframe_py``."""

from __future__ import annotations

import itertools
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import sframe_py
from sframe_py import (
    Context,
    FrameKey,
    InvalidArgumentError,
    KeyContext,
    MlsContext,
    RatchetReceiver,
    RatchetSender,
    SFrameError,
    get_suite,
    parse_header,
)

from ..model.protocol import OPTIONAL_OPS, PROTOCOL_VERSION, STATEFUL_CAPABILITIES
from ..model.wire import Hello, Request, Response
from . import measure
from .base import Adapter
from .watchdog import Watchdog

Fields = dict[str, Any]
State = Context | RatchetSender | RatchetReceiver | MlsContext
S = TypeVar("S", Context, RatchetSender, RatchetReceiver, MlsContext)


# Ops that keep state across requests, and may loop over a client's numbers (ratchet steps).
_STATEFUL_PREFIXES = ("context_", "ratchet_", "mls_")


class _MissingField(Exception):
    pass


def _need(fields: Fields, *names: str) -> list[Any]:
    missing = [n for n in names if n not in fields]
    if missing:
        raise _MissingField(f"missing field(s): {', '.join(missing)}")
    return [fields[n] for n in names]


class PythonAdapter(Adapter):
    """Runs ``implementations/python`` in this process. Derived keys are cached per
    (suite, base_key, KID) because deriving costs more than encrypting a small frame.
    Stateful ops keep their contexts here, named by handle strings."""

    CACHE_SIZE = 512

    def __init__(self, name: str = "python", timeout: float | None = 5.0) -> None:
        self.name = name
        # Stateful ops run under a watchdog (see run); the stateless ones are bounded by their input.
        self.timeout = timeout
        self._watchdog: Watchdog[Request, Response] = Watchdog(
            lambda r: self.handle(r), "sframe-python-stateful")
        self.restarts = 0
        self._keys: OrderedDict[tuple[int, bytes, int], FrameKey] = OrderedDict()
        self._ops: dict[str, Callable[[Fields], Fields]] = {
            "hello": self._hello,
            "encrypt": self._encrypt,
            "decrypt": self._decrypt,
            "encode_header": self._encode_header,
            "decode_header": self._decode_header,
            "derive": self._derive,
            "aead_encrypt": self._aead_encrypt,
            "aead_decrypt": self._aead_decrypt,
            "shutdown": lambda f: {},
            "context_new": self._context_new,
            "context_add_key": self._context_add_key,
            "context_remove_key": self._context_remove_key,
            "context_encrypt": self._context_encrypt,
            "context_decrypt": self._context_decrypt,
            "context_free": self._context_free,
            "ratchet_derive": self._ratchet_derive,
            "ratchet_sender_new": self._ratchet_sender_new,
            "ratchet_advance": self._ratchet_advance,
            "ratchet_receiver_new": self._ratchet_receiver_new,
            "mls_context_new": self._mls_context_new,
            "mls_add_epoch": self._mls_add_epoch,
            "mls_remove_epoch": self._mls_remove_epoch,
            "mls_encrypt": self._mls_encrypt,
            "mls_decrypt": self._mls_decrypt,
            "bench": lambda f: measure.bench(*_need(f, "suite", "base_key", "kid", "metadata", "plaintext", "count",
                                                    "mode")),
            "timing": lambda f: measure.timing(*_need(f, "suite", "base_key", "kid", "metadata", "ciphertext_a",
                                                      "ciphertext_b", "schedule")),
        }
        self._contexts: dict[str, State] = {}
        self._handles = itertools.count(1)
        self.hello = Hello.from_fields(self._hello({}))

    def _frame_key(self, suite: int, base_key: bytes, kid: int) -> FrameKey:
        cache_key = (suite, bytes(base_key), kid)
        key = self._keys.get(cache_key)
        if key is None:
            key = FrameKey.derive(get_suite(suite), base_key, kid)
            self._keys[cache_key] = key
            if len(self._keys) > self.CACHE_SIZE:
                self._keys.popitem(last=False)
        return key

    def _hello(self, fields: Fields) -> Fields:
        return {
            "name": "sframe-py",
            "version": sframe_py.__version__,
            "protocol": PROTOCOL_VERSION,
            "suites": sorted(sframe_py.SUITES),
            "capabilities": list(OPTIONAL_OPS + STATEFUL_CAPABILITIES + measure.CAPABILITIES),
        }

    def _encrypt(self, f: Fields) -> Fields:
        suite, base_key, kid, ctr, metadata, plaintext = _need(f, "suite", "base_key", "kid", "ctr", "metadata", "plaintext")
        return {"ciphertext": self._frame_key(suite, base_key, kid).seal(ctr, metadata, plaintext)}

    def _decrypt(self, f: Fields) -> Fields:
        suite, base_key, kid, metadata, ciphertext = _need(f, "suite", "base_key", "kid", "metadata", "ciphertext")
        return {"plaintext": self._frame_key(suite, base_key, kid).decrypt(metadata, ciphertext)}

    def _encode_header(self, f: Fields) -> Fields:
        kid, ctr = _need(f, "kid", "ctr")
        return {"header": sframe_py.encode_header(kid, ctr)}

    def _decode_header(self, f: Fields) -> Fields:
        (data,) = _need(f, "data")
        header = parse_header(data)
        return {"kid": header.kid, "ctr": header.ctr, "length": header.length, "minimal": header.minimal}

    def _derive(self, f: Fields) -> Fields:
        suite, base_key, kid = _need(f, "suite", "base_key", "kid")
        material = sframe_py.derive_key_salt(get_suite(suite), base_key, kid)
        return {"key": material.sframe_key, "salt": material.sframe_salt}

    def _aead_encrypt(self, f: Fields) -> Fields:
        suite, key, nonce, aad, plaintext = _need(f, "suite", "key", "nonce", "aad", "plaintext")
        return {"ciphertext": sframe_py.make_aead(get_suite(suite), key).seal(nonce, aad, plaintext)}

    def _aead_decrypt(self, f: Fields) -> Fields:
        suite, key, nonce, aad, ciphertext = _need(f, "suite", "key", "nonce", "aad", "ciphertext")
        return {"plaintext": sframe_py.make_aead(get_suite(suite), key).open(nonce, aad, ciphertext)}

    # Stateful ops (PROTOCOL.md "Stateful ops"): contexts live in self._contexts.

    def _new_handle(self, state: State) -> Fields:
        handle = f"ctx-{next(self._handles)}"
        self._contexts[handle] = state
        return {"ctx": handle}

    def _lookup(self, f: Fields) -> State:
        (handle,) = _need(f, "ctx")
        state = self._contexts.get(handle) if isinstance(handle, str) else None
        if state is None:
            raise InvalidArgumentError(f"no context {handle!r} (never created, or freed)")
        return state

    def _state(self, f: Fields, kind: type[S]) -> S:
        state = self._lookup(f)
        if not isinstance(state, kind):
            raise InvalidArgumentError(f"context {f['ctx']!r} is a {type(state).__name__}, not for this op")
        return state

    def _key_context(self, f: Fields, sending: bool = False) -> KeyContext:
        state = self._lookup(f)
        if isinstance(state, MlsContext):
            raise InvalidArgumentError(f"context {f['ctx']!r} is an MlsContext: use the mls_* ops")
        if sending and isinstance(state, RatchetReceiver):  # PROTOCOL.md: a context of another kind
            raise InvalidArgumentError(f"context {f['ctx']!r} is a RatchetReceiver: receivers only decrypt")
        return state

    def _context_new(self, f: Fields) -> Fields:
        (suite,) = _need(f, "suite")
        return self._new_handle(Context(suite, f.get("replay_window")))

    def _context_add_key(self, f: Fields) -> Fields:
        ctx = self._state(f, Context)
        kid, base_key, usage = _need(f, "kid", "base_key", "usage")
        if usage == "send":
            ctx.add_send_key(kid, base_key, f.get("next_ctr", 0))
        elif usage == "recv":
            ctx.add_recv_key(kid, base_key)
        else:
            raise InvalidArgumentError(f"usage must be 'send' or 'recv', got {usage!r}")
        return {}

    def _context_remove_key(self, f: Fields) -> Fields:
        (kid,) = _need(f, "kid")
        self._state(f, Context).remove_key(kid)
        return {}

    def _context_encrypt(self, f: Fields) -> Fields:
        metadata, plaintext = _need(f, "metadata", "plaintext")
        ciphertext = self._key_context(f, sending=True).encrypt(f.get("kid"), metadata, plaintext)
        return {"ciphertext": ciphertext, "ctr": parse_header(ciphertext).ctr}

    def _context_decrypt(self, f: Fields) -> Fields:
        ctx = self._key_context(f)
        metadata, ciphertext = _need(f, "metadata", "ciphertext")
        frame = ctx.decrypt_frame(metadata, ciphertext)
        return {"plaintext": frame.plaintext, "kid": frame.header.kid, "ctr": frame.header.ctr}

    def _context_free(self, f: Fields) -> Fields:
        self._lookup(f)
        del self._contexts[f["ctx"]]
        return {}

    def _ratchet_derive(self, f: Fields) -> Fields:
        suite, base_key, steps = _need(f, "suite", "base_key", "steps")
        return {"base_key": sframe_py.ratchet_forward(get_suite(suite), base_key, steps)}

    def _ratchet_sender_new(self, f: Fields) -> Fields:
        suite, base_key, generation, bits = _need(f, "suite", "base_key", "generation", "ratchet_bits")
        sender = RatchetSender(suite, base_key, generation, bits)
        return {**self._new_handle(sender), "kid": sender.kid}

    def _ratchet_advance(self, f: Fields) -> Fields:
        sender = self._state(f, RatchetSender)
        return {"kid": sender.advance(), "step": sender.step}

    def _ratchet_receiver_new(self, f: Fields) -> Fields:
        suite, base_key, generation, bits = _need(f, "suite", "base_key", "generation", "ratchet_bits")
        return self._new_handle(RatchetReceiver(suite, base_key, generation, bits, f.get("step", 0)))

    def _mls_context_new(self, f: Fields) -> Fields:
        suite, epoch_bits, sender_bits = _need(f, "suite", "epoch_bits", "sender_bits")
        return self._new_handle(MlsContext(suite, epoch_bits, sender_bits, f.get("replay_window")))

    def _mls_add_epoch(self, f: Fields) -> Fields:
        epoch, secret = _need(f, "epoch", "epoch_secret")
        self._state(f, MlsContext).add_epoch(epoch, secret)
        return {}

    def _mls_remove_epoch(self, f: Fields) -> Fields:
        (epoch,) = _need(f, "epoch")
        self._state(f, MlsContext).remove_epoch(epoch)
        return {}

    def _mls_encrypt(self, f: Fields) -> Fields:
        ctx = self._state(f, MlsContext)
        epoch, index, context_id, metadata, plaintext = _need(
            f, "epoch", "sender_index", "context_id", "metadata", "plaintext")
        ciphertext = ctx.encrypt(epoch, index, context_id, metadata, plaintext)
        header = parse_header(ciphertext)
        return {"ciphertext": ciphertext, "kid": header.kid, "ctr": header.ctr}

    def _mls_decrypt(self, f: Fields) -> Fields:
        metadata, ciphertext = _need(f, "metadata", "ciphertext")
        frame = self._state(f, MlsContext).decrypt(metadata, ciphertext)
        return {"plaintext": frame.plaintext, "epoch": frame.epoch, "sender_index": frame.sender_index,
                "context_id": frame.context_id}

    def handle(self, request: Request) -> Response:
        """The op's response, without the deadline (``run`` adds it); subclasses that plant a bug
        override this."""
        start = time.perf_counter()
        handler = self._ops.get(request.op)
        try:
            if handler is None:
                return Response(False, error="unsupported", message=f"unknown op {request.op!r}")
            fields = handler(request.fields)
            return Response(True, fields, elapsed=time.perf_counter() - start)
        except SFrameError as e:
            return Response(False, error=e.code, message=str(e), elapsed=time.perf_counter() - start)
        except (_MissingField, TypeError, ValueError) as e:
            return Response(False, error="invalid_argument", message=str(e), elapsed=time.perf_counter() - start)
        except Exception as e:  # noqa: BLE001 - a crash of the reference is graded, it does not end the run (or serve)
            return Response.faulted(f"uncaught {type(e).__name__}: {e}")

    def run(self, requests: Sequence[Request]) -> list[Response]:
        """The responses. A batch with a stateful op runs under the watchdog; an op that runs past
        ``timeout`` is abandoned and faulted like a subprocess that hangs, and like a restarted subprocess
        the adapter then holds no context (the abandoned op may have left one half-changed): ``restarts``
        counts it. The ops after it run as a new batch."""
        if self.timeout is None or not any(r.op.startswith(_STATEFUL_PREFIXES) for r in requests):
            return [self.handle(r) for r in requests]
        answers, abandoned = self._watchdog.call_all(requests, self.timeout)
        if not abandoned:
            return answers
        self._contexts = {}
        self.restarts += 1
        stuck = Response.faulted(f"timeout: no response within {self.timeout:g}s (in process; its contexts were "
                                 "dropped)")
        return [*answers, stuck, *self.run(requests[len(answers) + 1:])]

    def close(self) -> None:
        self._watchdog.close()

"""The in-process adapter: protocol ops mapped straight onto ``sframe_py``."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import sframe_py
from sframe_py import FrameKey, SFrameError, get_suite, parse_header

from ..protocol import OPTIONAL_OPS, PROTOCOL_VERSION
from .base import Adapter, Hello, Request, Response

Fields = dict[str, Any]


class _MissingField(Exception):
    pass


def _need(fields: Fields, *names: str) -> list[Any]:
    missing = [n for n in names if n not in fields]
    if missing:
        raise _MissingField(f"missing field(s): {', '.join(missing)}")
    return [fields[n] for n in names]


class PythonAdapter(Adapter):
    """Runs ``implementations/python`` in this process. Derived keys are cached per
    (suite, base_key, KID) because deriving costs more than encrypting a small frame."""

    CACHE_SIZE = 512

    def __init__(self, name: str = "python") -> None:
        self.name = name
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
        }
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
            "capabilities": list(OPTIONAL_OPS),
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

    def handle(self, request: Request) -> Response:
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

    def run(self, requests: Sequence[Request]) -> list[Response]:
        return [self.handle(r) for r in requests]

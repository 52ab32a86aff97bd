"""What every vector builder shares: deterministic bytes, the typed test, the builder tag.

Rules of this module:

- Every byte a generated vector holds is deterministic: ``pseudo_random`` is
  SHA-256 in counter mode over a label, never ``os.urandom``.
- A builder is a generator function tagged ``@builder``; each test it yields
  records ``source``, ``harness/catalogue/generate/<module>.py:<function>``,
  so that a case id leads to the code that made it. When builders nest, the
  innermost one (the closest to the test) names it.
- A ``VectorTest`` holds Python values (``bytes``, ``int``); it becomes wire
  form (hex, decimal strings) only in ``to_json``.
- A tcId is derived from the case id alone (``tc_id``), so inserting or
  removing a case never renumbers another.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ParamSpec, Protocol, TypeVar

import sframe_py
from sframe_py import SUITES, encode_header, parse_header

from ...model.protocol import ERROR_CLASSES, U64_MAX, to_wire
from ..inputs import BASE_KEY, METADATA, PLAINTEXT

__all__ = ["BASE_KEY", "METADATA", "PLAINTEXT", "U64_MAX", "BOUNDARIES", "VectorTest", "Group", "builder",
           "pseudo_random", "tc_id", "value_flags", "flip", "frame", "forged", "rewrite_kid", "error_order"]

# KID and CTR values at every boundary an encoder or a nonce computation can get wrong.
BOUNDARIES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 0xFF, 0x100, 0xFFFF, 0x10000, 2**32 - 1, 2**32, 2**32 + 1,
              2**63 - 1, 2**63, U64_MAX]


def pseudo_random(label: str, n: int) -> bytes:
    """Deterministic pseudo-random bytes: SHA-256 in counter mode over a label."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}/{i}".encode()).digest()
        i += 1
    return out[:n]


def tc_id(case_id: str) -> int:
    """A test's tcId: the first 31 bits of SHA-256(id), big-endian. Derived from the id alone,
    it survives insertions and removals; 31 bits fit a signed 32-bit int in any consumer.
    ``documents`` checks that no two tests share one."""
    return int.from_bytes(hashlib.sha256(case_id.encode()).digest()[:4], "big") >> 1


def error_order(errors: Iterable[str]) -> list[str]:
    """Error classes in PROTOCOL.md's table order, so a list reads the same whoever computed it."""
    return sorted(set(errors), key=lambda e: ERROR_CLASSES.index(e) if e in ERROR_CLASSES else len(ERROR_CLASSES))


@dataclass
class VectorTest:
    """One flat (stateless) test of a vector file. The loader turns ``inputs`` into steps
    by group type (``loader.GROUP_TYPES``)."""

    id: str
    comment: str
    requirements: list[str]
    flags: list[str]
    result: str  # "valid", "invalid" or "acceptable" (Wycheproof's words)
    inputs: dict[str, Any]  # inputs and expected outputs, in file order
    level: str = "MUST"
    errors: list[str] = field(default_factory=list)  # invalid: the classes that pass; empty = the reference's
    source: str = ""  # set by @builder
    # Filled in by the allowance audit (policies.py):
    may_fail: list[str] = field(default_factory=list)  # ops whose refusal RFC 9605 allows
    reason: str = ""  # why several error classes, or a refusal, are allowed

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"tcId": tc_id(self.id), "id": self.id, "source": self.source, "comment": self.comment,
                               "level": self.level, "requirements": self.requirements, "flags": self.flags,
                               "result": self.result, **to_wire(self.inputs)}
        if self.errors:
            out["errors"] = self.errors
        if self.may_fail:
            out["may_fail"] = self.may_fail
        if self.reason:
            out["reason"] = self.reason
        return out


class Sourced(Protocol):
    source: str


T = TypeVar("T", bound=Sourced)
P = ParamSpec("P")


def builder(fn: Callable[P, Iterator[T]]) -> Callable[P, Iterator[T]]:
    """Tag every test ``fn`` yields with ``fn``'s module path and name, unless a nested builder did."""
    source = f"{fn.__module__.replace('.', '/')}.py:{fn.__qualname__}"

    @functools.wraps(fn)
    def tagged(*args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        for test in fn(*args, **kwargs):
            test.source = test.source or source
            yield test

    return tagged


@dataclass
class Group:
    """A ``testGroups`` entry: tests of one type (``loader.GROUP_TYPES``), optionally of one suite."""

    type: str
    suite: int | None
    tests: list[Any] = field(default_factory=list)  # VectorTest, or Scenario for KeyManagementScenario


def value_flags(kid: int, ctr: int) -> list[str]:
    """The boundary flags (notes.py) a KID/CTR pair exercises."""
    flags = []
    if kid <= 8 or ctr <= 8:
        flags.append("InlineBoundary")
    if ctr >= 2**32:
        flags.append("CtrTruncation")
    if kid >= 2**32:
        flags.append("KidTruncation")
    if 2**63 - 1 <= kid <= 2**63 or 2**63 - 1 <= ctr <= 2**63:
        flags.append("SignedInt64")
    if U64_MAX in (kid, ctr):
        flags.append("MaxValue")
    return flags


def flip(data: bytes, index: int, bit: int = 0) -> bytes:
    out = bytearray(data)
    out[index] ^= 1 << bit
    return bytes(out)


def frame(suite: int, base_key: bytes, kid: int, ctr: int, plaintext: bytes = PLAINTEXT,
          metadata: bytes = METADATA) -> bytes:
    """A genuine frame, from the stateless reference: receiver cases do not depend on sender state."""
    return sframe_py.encrypt(suite, base_key, kid, ctr, metadata, plaintext)


def forged(suite: int, kid: int, ctr: int) -> bytes:
    """A header followed by bytes that no key authenticates."""
    return encode_header(kid, ctr) + pseudo_random(f"forged/{kid}/{ctr}", len(PLAINTEXT) + SUITES[suite].nt)


def rewrite_kid(ciphertext: bytes, kid: int) -> bytes:
    header = parse_header(ciphertext)
    return encode_header(kid, header.ctr) + ciphertext[header.length:]

"""atheris target: SFrame header parsing (RFC 9605 §4.3).

Input: any bytes, parsed as a header (trailing bytes ignored).
Invariants, besides "no exception but MalformedError":
- the parse agrees with an independent bit-level model of the format;
- a minimal header re-encodes to exactly the bytes it was parsed from;
- encode(parse(x)) is minimal, parses back to the same KID and CTR, and is
  never longer than what was parsed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from sframe_py import MalformedError, encode_header, parse_header

VECTORS = Path(__file__).resolve().parent.parent / "vectors"


def model(data: bytes) -> tuple[int, int, int] | None:
    """(kid, ctr, header length) read bit by bit from the RFC's layout, or None if truncated."""
    if not data:
        return None
    config, at, values = data[0], 1, []
    for shift in (4, 0):  # X|K(3) then Y|C(3)
        extended, low = (config >> (shift + 3)) & 1, (config >> shift) & 0b111
        if not extended:
            values.append(low)
            continue
        size = low + 1
        if at + size > len(data):
            return None
        value = 0
        for byte in data[at : at + size]:
            value = value * 256 + byte
        values.append(value)
        at += size
    return values[0], values[1], at


def TestOneInput(data: bytes) -> None:
    expected = model(data)
    try:
        header = parse_header(data)
    except MalformedError:
        if expected is not None:
            raise AssertionError(f"well-formed header {data[:17].hex()} rejected")
        return
    if expected is None:
        raise AssertionError(f"truncated header {data[:17].hex()} accepted as {header}")
    if (header.kid, header.ctr, header.length) != expected:
        raise AssertionError(f"parsed {(header.kid, header.ctr, header.length)}, the format says {expected}")
    encoded = encode_header(header.kid, header.ctr)
    if header.minimal and encoded != data[: header.length]:
        raise AssertionError(f"minimal header {data[:header.length].hex()} re-encodes as {encoded.hex()}")
    again = parse_header(encoded)
    if (again.kid, again.ctr) != (header.kid, header.ctr) or not again.minimal or len(encoded) > header.length:
        raise AssertionError(f"encode/parse round trip broke for KID {header.kid} CTR {header.ctr}: {encoded.hex()}")


def seeds() -> Iterator[bytes]:
    rfc = json.loads((VECTORS / "rfc9605" / "test-vectors.json").read_text())
    for v in rfc["header"]:
        yield bytes.fromhex(v["encoded"])
    generated = json.loads((VECTORS / "generated" / "header.json").read_text())
    for group in generated["testGroups"]:
        for t in group["tests"]:
            for name in ("header", "data"):
                if t.get(name):
                    yield bytes.fromhex(t[name])


def to_case(data: bytes):  # -> harness.cases.Case; imported lazily so the target needs only sframe_py
    from harness.model.cases import Case, Expected, Step
    from harness.model.requirements import Level
    from harness.model.wire import Request

    expected = model(data)
    steps = []
    result = Expected.VALID
    if expected is None:
        steps.append(Step(Request("decode_header", {"data": data}), False, errors=("malformed",)))
        result = Expected.INVALID
    else:
        kid, ctr, length = expected
        minimal = encode_header(kid, ctr) == data[:length]
        steps.append(Step(Request("decode_header", {"data": data}), True, {"kid": kid, "ctr": ctr, "length": length},
                          may_fail=not minimal))
        if minimal:
            steps.append(Step(Request("encode_header", {"kid": kid, "ctr": ctr}), True, {"header": data[:length]}))
        else:
            result = Expected.ACCEPTABLE
    return Case(id=f"fuzz/header/{data[:24].hex() or 'empty'}", title="header parse/encode (atheris finding)",
                section="4.3", requirements=("HDR-01", "HDR-05"), level=Level.MUST, result=result,
                steps=tuple(steps), flags=("Fuzz",), source="fuzz/fuzz_header.py")


def main() -> None:
    from harness.fuzz.libfuzzer import run_target

    run_target(TestOneInput)


if __name__ == "__main__":
    main()

"""The one boundary every value from the wire crosses (protocol, wire, framing), and safe text.

Whatever arrives, decoding gives checked values or a ProtocolError (a fault, a grade), never
another exception: these are the inputs that used to end a run with a traceback.
"""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET

import pytest

from harness.model import framing
from harness.model.protocol import MAX_DEPTH, ProtocolError, check_fields, decode_line, from_wire, parse_json
from harness.model.text import clip, for_html, for_terminal, for_xml, one_line
from harness.model.wire import Hello, response_from_line, response_from_message

HOSTILE_LINES = [
    b"[" * 100_000 + b"]" * 100_000,  # RecursionError in json
    b'{"id": 1, "ok": true, "length": ' + b"7" * 5000 + b"}",  # beyond Python's int-string limit
    b'{"id": 1, "ok": true, "kid": "' + b"9" * 5000 + b'"}',  # a u64 string of 5,000 digits
    b'{"id": 1, "ok": true, "suite": NaN}',
    b'{"id": 1, "ok": true, "ctr": 1e999}',
    b'{"id": 1, "ok": "yes"}',
    b'{"id": 1, "ok": true, "ciphertext": 5}',
    b'{"id": 1, "ok": true, "minimal": 1}',
    b'{"id": 1, "ok": true, "length": true}',
    b'{"id": 1, "ok": false, "error": ["x"]}',
    b'{"id": 1, "ok": false, "error": "x", "message": 7}',
    b'{"id": 2, "ok": true}',
    b"\xff\xfe{}",
    b'{"id": 1, "ok": true, "x": ' + b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1) + b"}",
    b"",
    b"null",
    b'"a string"',
]


@pytest.mark.parametrize("line", HOSTILE_LINES, ids=range(len(HOSTILE_LINES)))
def test_a_hostile_response_line_is_a_fault_not_an_exception(line: bytes) -> None:
    response = response_from_line(line, 1, "stdout")
    assert response.fault is not None and not response.ok
    assert len(response.fault) < 300 and "\n" not in response.fault


def test_parse_json_limits() -> None:
    for bad, reason in [(b"[" * 100_000, "nested deeper"), (b"1" * 5000, "not JSON"), (b"NaN", "not a JSON number"),
                        (b"\xed\xa0\x80", "not UTF-8"), (b"[" + b"0," * (1 << 20) + b"0]", "JSON values")]:
        with pytest.raises(ProtocolError, match=reason):
            parse_json(bad)
    deep = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert parse_json(deep) is not None
    with pytest.raises(ProtocolError, match="nested deeper"):
        parse_json("[" + deep + "]")


def test_strings_lose_lone_surrogates_and_messages_are_cut() -> None:
    message = decode_line(b'{"id": 1, "ok": false, "error": "x\\ud800", "message": "' + b"m" * 10_000 + b'"}')
    fields = check_fields({k: message[k] for k in ("error", "message")})
    assert fields["error"] == "x\ufffd"
    assert fields["message"].endswith("… 5904 characters cut") and len(fields["message"]) < 4200
    fields["message"].encode("utf-8")
    assert parse_json('{"\\udc00": ["\\ud800"]}') == {"\ufffd": ["\ufffd"]}


@pytest.mark.parametrize("fields,reason", [
    ({"suite": True}, "'suite' must be an integer"),
    ({"suite": "4"}, "'suite' must be an integer"),
    ({"steps": 1 << 70}, "'steps' must be an integer"),
    ({"kid": "1" * 21}, "at most 20 digits"),
    ({"kid": "-1"}, "'kid' must be a decimal string"),
    ({"base_key": "zz"}, "not valid hex"),
    ({"minimal": "yes"}, "must be true or false"),
    ({"ctx": 5}, "'ctx' must be a string"),
])
def test_from_wire_checks_types(fields: dict, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        from_wire(fields)


def test_u64_at_and_beyond_the_range_still_parse() -> None:
    # KID 2^64 must reach the implementation, to be refused there as invalid_argument.
    assert from_wire({"kid": str(1 << 64), "ctr": str((1 << 64) - 1)}) == {"kid": 1 << 64, "ctr": (1 << 64) - 1}


@pytest.mark.parametrize("fields,reason", [
    ({"protocol": "one"}, "'protocol' must be 1"),
    ({"protocol": 2}, "'protocol' must be 1, got 2"),
    ({"protocol": True}, "'protocol' must be 1"),
    ({}, "'protocol' must be 1"),
    ({"protocol": 1, "suites": 4}, "'suites' must be a list"),
    ({"protocol": 1, "suites": [True]}, "'suites' must be a list"),
    ({"protocol": 1, "suites": [1 << 40]}, "'suites' must be a list"),
    ({"protocol": 1, "capabilities": "all"}, "'capabilities' must be a list of strings"),
    ({"protocol": 1, "name": 5}, "'name' and 'version' must be strings"),
])
def test_a_bad_hello_is_refused(fields: dict, reason: str) -> None:
    with pytest.raises(ProtocolError, match=reason):
        Hello.from_fields(fields)


def test_a_good_hello() -> None:
    hello = Hello.from_fields({"protocol": 1, "suites": [1, 4], "capabilities": ["derive"], "name": "x"})
    assert hello.suites == (1, 4) and hello.capabilities == ("derive",) and hello.version == "?"


# binary-v1


def test_framing_round_trip() -> None:
    message = {"id": 7, "op": "encrypt", "suite": 4, "kid": (1 << 64) - 1, "ctr": 0, "base_key": bytes(16),
               "metadata": b"", "plaintext": bytes(range(256)), "ok": True, "steps": -5, "suites": [1, 2],
               "message": "é\u202e", "big": 1 << 70}
    frame = framing.encode(message)
    decoded = framing.decode(frame[4:])
    assert decoded == {**message, "big": str(1 << 70)}
    assert framing.frame_length(frame[:4]) == len(frame) - 4
    # A u64 field out of range crosses as a decimal string, to be refused by the implementation.
    assert framing.decode(framing.encode({"kid": 1 << 64})[4:]) == {"kid": 1 << 64}


def test_framing_decode_raises_only_protocol_errors() -> None:
    frame = framing.encode({"id": 1, "ok": True, "ciphertext": b"abc", "message": "hi", "x": [1, {"a": None}],
                            "minimal": False, "ctr": 5})[4:]
    rng = random.Random(0)
    boundaries = 0
    for cut in range(1, len(frame)):
        try:
            framing.decode(frame[:cut])
            boundaries += 1  # cut between two fields: a shorter, valid message
        except ProtocolError:
            pass
    assert boundaries == 6  # one per field but the last
    for _ in range(3000):
        mutated = bytearray(frame)
        for _ in range(rng.randint(1, 4)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        try:
            framing.decode(bytes(mutated))
        except ProtocolError:
            pass
    for bad, reason in [(b"\x09\x02id\x00", "unknown type 9"), (b"\x05\x01x\x02", "bool byte 2"),
                        (b"\x01\x01x\xff\xff\xff\xff", "ends inside"), (b"\x03\x01x\x00\x00\x00\x01\xff", "not UTF-8"),
                        (b"\x04\x01x" + bytes(8) + b"\x04\x01x" + bytes(8), "repeated"),
                        (b"\x03\x04ctr\x00\x00\x00\x02ab".replace(b"\x04ctr", b"\x03ctr"), "must be a u64"),
                        (b"\x06\x01x\x00\x00\x00\x03[[[", "not JSON"), (b"\x04\x03kid" + b"\xff" * 8, "must be a u64")]:
        with pytest.raises(ProtocolError, match=reason):
            framing.decode(bad)
    with pytest.raises(ProtocolError, match="outside"):
        framing.frame_length(b"\xff\xff\xff\xff")
    with pytest.raises(ProtocolError, match="outside"):
        framing.frame_length(b"\x00\x00\x00\x00")


def test_binary_responses_pass_the_same_checks() -> None:
    frame = framing.encode({"id": 3, "ok": True, "suite": True})[4:]
    with pytest.raises(ProtocolError, match="'suite' must be an integer"):
        framing.decode(frame)
    message = framing.decode(framing.encode({"id": 3, "ok": False, "error": "auth_failed", "message": "m" * 9000})[4:])
    response = response_from_message(message, 3)
    assert response.error == "auth_failed" and response.message.endswith("characters cut")


def test_deframer_lines() -> None:
    d = framing.Deframer(limit=10)
    assert d.feed(b'{"a"') == []
    assert d.feed(b':1}\n{"b":2}\n{') == [b'{"a":1}', b'{"b":2}']
    out = d.feed(b"x" * 30)  # too long: said once, the rest of that line skipped
    assert len(out) == 1 and isinstance(out[0], ProtocolError)
    assert d.feed(b"y" * 30) == []
    assert d.feed(b'yy\n{"c":3}\n') == [b'{"c":3}']
    assert [str(e) for e in d.feed(b"z" * 11 + b"\n")] == ["line longer than 10 bytes"]


def test_deframer_binary_split_at_every_byte() -> None:
    frames = [framing.encode({"id": i, "ok": True, "ciphertext": bytes(i * 7)}) for i in range(5)]
    stream = b"".join(frames)
    for step in (1, 2, 3, 7, 64):
        d = framing.Deframer()
        d.binary = True
        got = [m for at in range(0, len(stream), step) for m in d.feed(stream[at:at + step])]
        assert got == [f[4:] for f in frames]
    d = framing.Deframer()
    d.binary = True
    (problem,) = d.feed(b"\xff\xff\xff\xff" + b"more")
    assert isinstance(problem, ProtocolError) and d.broken and d.feed(frames[0]) == []


# Safe text


NASTY = "a\x00b\x1b[31mc\x07\ud800\u202eé<&>\"'\ufffe\n"


def test_for_terminal_shows_controls_escaped() -> None:
    shown = for_terminal(NASTY)
    assert shown == "a\\x00b\\x1b[31mc\\x07\\ud800\\u202eé<&>\"'\ufffe\\x0a"
    shown.encode("utf-8")
    assert for_terminal("plain text") == "plain text"


def test_for_xml_output_parses() -> None:
    element = ET.Element("e", message=for_xml(NASTY))
    element.text = for_xml(NASTY)
    ET.fromstring(ET.tostring(element, encoding="unicode"))


def test_for_html_escapes_any_value() -> None:
    assert for_html(NASTY) == "a\\x00b\\x1b[31mc\\x07\\ud800\u202eé&lt;&amp;&gt;&quot;&#x27;\\ufffe\n"
    assert for_html(["<b>", 1]) == "[&#x27;&lt;b&gt;&#x27;, 1]" and for_html(None) == "None"


def test_clip_and_one_line() -> None:
    assert clip("abc", 5) == "abc" and clip("abcdef", 2) == "ab… 4 characters cut"
    assert one_line("a\nb\r\n\nc") == "a | b | c"

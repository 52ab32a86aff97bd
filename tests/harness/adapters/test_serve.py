"""`python -m harness serve` speaks the protocol in both framings: the harness through it equals the
in-process run, and a hostile client gets an answer for every line, never a dead server."""

import json
import subprocess
import sys

import pytest

from harness.adapters.registry import open_adapter
from harness.adapters.subprocess import SubprocessAdapter
from harness.catalogue import all_cases
from harness.engine.runner import run
from harness.model import framing
from tests.conftest import ROOT

SERVE = [sys.executable, "-m", "harness", "serve", "--impl", "python"]


@pytest.mark.parametrize("framings,chosen", [((framing.NAME,), framing.NAME), ((), "json-lines")])
def test_serve_equals_in_process(framings, chosen):
    with open_adapter("python") as direct, SubprocessAdapter(SERVE, cwd=ROOT, framings=framings) as served:
        assert served.framing == chosen
        a = run(direct, all_cases())
        b = run(served, all_cases())
    assert [(o.case.id, o.grade, o.detail) for o in a.outcomes] == [(o.case.id, o.grade, o.detail) for o in b.outcomes]
    assert b.hello == a.hello


def _serve(lines: list[bytes]) -> list[dict]:
    proc = subprocess.run(SERVE, cwd=ROOT, input=b"".join(line + b"\n" for line in lines), capture_output=True,
                          timeout=60)
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr[-2000:]
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_hostile_requests_get_invalid_argument_and_serve_keeps_going():
    encrypt = {"op": "encrypt", "suite": 4, "base_key": "00" * 16, "kid": "1", "ctr": "0", "metadata": "",
               "plaintext": ""}
    lines = [
        b"[" * 100_000 + b"]" * 100_000,
        json.dumps({"id": 1, **encrypt, "kid": "9" * 5000}).encode(),
        b'{"id": 2, "op": "decode_header", "data": "00", "length": ' + b"7" * 5000 + b"}",
        json.dumps({"id": 3, **encrypt, "suite": True}).encode(),
        json.dumps({"id": 4, "op": "ratchet_derive", "suite": 4, "base_key": "00" * 16, "steps": 10**12}).encode(),
        json.dumps({"id": 5, "op": "context_new", "suite": 4, "replay_window": 10**11}).encode(),
        b'{"id": 6, "op": "hello", "x": "\\ud800"}',
        b"\xff\xfe",
        json.dumps({"id": 7, **encrypt}).encode(),
    ]
    replies = _serve(lines)
    assert [(r["id"], r["ok"], r.get("error")) for r in replies] == [
        (None, False, "invalid_argument"), (1, False, "invalid_argument"), (None, False, "invalid_argument"),
        (3, False, "invalid_argument"), (4, False, "invalid_argument"), (5, False, "invalid_argument"),
        (6, True, None), (None, False, "invalid_argument"), (7, True, None)]
    assert "nested deeper than 32" in replies[0]["message"] and "'suite' must be an integer" in replies[3]["message"]
    assert "0..65536" in replies[4]["message"] and "1..65536" in replies[5]["message"]


def test_serve_switches_to_binary_after_hello():
    hello = b'{"id": 0, "op": "hello", "framings": ["binary-v1"]}\n'
    request = framing.encode({"id": 1, "op": "encode_header", "kid": 5, "ctr": 7})
    bad = framing.encode({"id": 2, "op": "encrypt", "suite": True})
    # The client sends nothing after hello until its answer: one process, written in two steps.
    serve = subprocess.Popen(SERVE, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        serve.stdin.write(hello)
        serve.stdin.flush()
        answer = json.loads(serve.stdout.readline())
        assert answer["ok"] and answer["framing"] == "binary-v1"
        serve.stdin.write(request + bad + b"\xff\xff\xff\xff")
        serve.stdin.close()
        out = serve.stdout.read()
        assert serve.wait(30) == 0
    finally:
        serve.kill()
    d = framing.Deframer()
    d.binary = True
    first, second, third = (framing.decode(m) for m in d.feed(out))
    assert first == {"id": 1, "ok": True, "header": bytes([0x57])}
    assert second["id"] == 2 and second["error"] == "invalid_argument"
    assert third["id"] is None and "outside" in third["message"]


def test_serve_answers_bad_lines_and_keeps_going():
    lines = [
        "not json",
        json.dumps({"id": 1, "op": "encrypt", "suite": 4, "base_key": "zz", "kid": "1", "ctr": "0",
                    "metadata": "", "plaintext": ""}),
        json.dumps({"id": 2, "op": "frobnicate"}),
        json.dumps({"id": 3, "op": "encrypt", "suite": 4, "base_key": "00" * 16, "kid": "1", "ctr": "0",
                    "metadata": "", "plaintext": ""}),
        json.dumps({"id": 4, "op": "shutdown"}),
        json.dumps({"id": 5, "op": "hello"}),
    ]
    proc = subprocess.run([sys.executable, "-m", "harness", "serve", "--impl", "python"], cwd=ROOT, text=True,
                          input="\n".join(lines) + "\n", capture_output=True, timeout=60)
    replies = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 0
    assert [(r["id"], r["ok"], r.get("error")) for r in replies] == [
        (None, False, "invalid_argument"), (1, False, "invalid_argument"), (2, False, "unsupported"),
        (3, True, None), (4, True, None)]
    assert replies[3]["ciphertext"].startswith("10")

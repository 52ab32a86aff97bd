"""`python -m harness serve` speaks the protocol: the harness through it equals the in-process run."""

import json
import subprocess
import sys

from harness.adapters.registry import open_adapter
from harness.catalogue import all_cases
from harness.engine.runner import run
from tests.conftest import ROOT


def test_serve_equals_in_process():
    with open_adapter("python") as direct, open_adapter(f"cmd:{sys.executable} -m harness serve --impl python") as served:
        a = run(direct, all_cases())
        b = run(served, all_cases())
    assert [(o.case.id, o.grade, o.detail) for o in a.outcomes] == [(o.case.id, o.grade, o.detail) for o in b.outcomes]
    assert b.hello == a.hello


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

"""The coverage-guided campaign end to end: coverage channels, a planted bug only coverage finds, resume, report.

Each campaign runs for seconds; the planted-bug one stops at its finding.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.adapters.coverage import open_coverage_adapter
from harness.adapters.registry import C_COV, C_SERVER
from harness.cli import main
from harness.fuzz import coverage_campaign as cc
from harness.model.wire import Request
from tests.conftest import ROOT
from tests.harness.fuzz import planted

pytestmark = [pytest.mark.fuzz, pytest.mark.native]

needs_cov = pytest.mark.skipif(not C_COV.exists(), reason="make -C implementations/c cov has not run")

HEADER = Request("encode_header", {"kid": 1, "ctr": 2})
DECRYPT_PROBE = Request("decode_header", {"data": b"\x99\x01\x23\x45\x67"})


@needs_cov
def test_native_channel_counts_edges_of_a_coverage_build():
    with open_coverage_adapter("c-cov") as adapter:
        assert adapter.kind == "native" and "shared memory" in adapter.status()
        adapter.begin()
        assert adapter.call(HEADER).ok
        adapter.end()
        first = adapter.edges
        adapter.begin()
        assert adapter.call(DECRYPT_PROBE).ok
        adapter.end()
        assert first and adapter.edges > first  # another op reaches code the first did not
        adapter.begin()
        assert not adapter.map.view()[: adapter.map.edge_size].any()  # begin() cleared the map


def test_an_uninstrumented_program_runs_without_coverage_and_says_so():
    with open_coverage_adapter(f"cmd:{C_SERVER}") as adapter:
        assert adapter.map is None and "no coverage instrumentation found" in adapter.status()
        adapter.begin()
        assert adapter.call(HEADER).ok
        adapter.end()
        assert adapter.edges is None


@pytest.mark.skipif(shutil.which("afl-clang-fast") is None, reason="afl++ is not installed")
def test_an_afl_plus_plus_build_uses_the_same_channel(tmp_path):
    shim = tmp_path / "shim.c"
    shim.write_text(r"""
#include <stdio.h>
#include <string.h>
int main(void) {
    char line[4096];
    while (fgets(line, sizeof line, stdin)) {
        const char *id = strstr(line, "\"id\":");
        int n = id ? atoi(id + 5) : 0;
        if (strstr(line, "\"hello\""))
            printf("{\"id\":%d,\"ok\":true,\"name\":\"afl\",\"version\":\"0\",\"protocol\":1,\"suites\":[4],"
                   "\"capabilities\":[]}\n", n);
        else
            printf("{\"id\":%d,\"ok\":false,\"error\":\"unsupported\",\"message\":\"no\"}\n", n);
        fflush(stdout);
    }
    return 0;
}
""".replace("#include <string.h>", "#include <string.h>\n#include <stdlib.h>"))
    binary = tmp_path / "shim"
    subprocess.run(["afl-clang-fast", "-O1", "-o", str(binary), str(shim)], check=True, capture_output=True,
                   env={"AFL_QUIET": "1", "PATH": "/usr/bin:/bin"})
    with open_coverage_adapter(f"cmd:{binary}") as adapter:
        assert adapter.kind == "native"
        adapter.begin()
        assert adapter.call(HEADER).error == "unsupported"
        adapter.end()
        assert adapter.edges


@pytest.mark.node
def test_v8_channel_reports_only_the_included_files(monkeypatch):
    with open_coverage_adapter("js") as adapter:
        assert adapter.kind == "v8"
        adapter.begin()
        assert adapter.call(HEADER).ok
        adapter.end()
        assert adapter.edges
    monkeypatch.setenv("SFRAME_COVERAGE_INCLUDE", "/no/such/library/")
    with open_coverage_adapter("js") as adapter:
        adapter.begin()
        assert adapter.call(HEADER).ok
        adapter.end()
        assert adapter.edges == 0  # the shim's own code (server.mjs, shim/) is never counted


@needs_cov
def test_a_short_campaign_grows_the_corpus_reports_lines_and_resumes(tmp_path, capsys):
    out = tmp_path / "campaign"
    args = ["fuzz", "--impl", "python", "--impl", "c", "--max-time", "6", "--seed", "2", "--out", str(out), "-q"]
    assert main(args) == 0
    text = capsys.readouterr().out
    index = json.loads((out / "index.json").read_text())
    assert index["schema"] == cc.SCHEMA and index["impls"] == ["python", "c-cov"]
    assert index["corpus"] > 0 and index["execs"] > 100 and not index["findings"]
    c = {i["name"]: i for i in index["implementations"]}["c-cov"]
    assert c["kind"] == "native" and c["edges"] > 300
    lines = {i["name"]: i for i in index["coverage"]["implementations"]}["c-cov"]
    assert lines["lines_total"] > 500 and lines["lines_covered"] / lines["lines_total"] > 0.7
    library = [f for f in lines["files"] if f["library"]]
    assert {Path(f["path"]).name for f in library} == {"sframe.c", "sfctx.c"}
    assert "c-cov: native coverage" in text and "no finding" in text
    corpus = len(list((out / "corpus").iterdir()))
    assert main([*args[:5], "--max-time", "3", "--no-report", "--out", str(out), "-q"]) == 0
    assert len(list((out / "corpus").iterdir())) >= corpus  # resumed, not restarted


@needs_cov
def test_fork_mode_runs_workers_that_share_the_corpus(tmp_path):
    """--jobs 2: libFuzzer re-runs the driver through the shell for each worker, and their figures add up."""
    out = tmp_path / "campaign"
    assert main(["fuzz", "--impl", "python", "--impl", "c", "--max-time", "12", "--seed", "3", "--jobs", "2",
                 "--out", str(out), "--no-report", "-q"]) == 0
    index = json.loads((out / "index.json").read_text())
    workers = [json.loads(p.read_text()) for p in out.glob("status-*.json")]
    assert sum(1 for w in workers if w["execs"]) >= 2  # the workers ran inputs, not only the outer process
    assert index["execs"] > 100 and index["corpus"] > 0 and not index["findings"]
    assert {i["name"]: i for i in index["implementations"]}["c-cov"]["edges"] > 300


@needs_cov
@pytest.mark.skipif(planted.available() is not None, reason=str(planted.available()))
def test_finds_a_bug_behind_four_byte_comparisons_that_random_difffuzz_misses(tmp_path, capsys):
    server = planted.build(tmp_path / "planted")
    spec = f"cmd:{server}"
    with open_coverage_adapter(spec) as adapter:  # the plant is armed: the magic plaintext comes back wrong
        import sframe_py

        frame = sframe_py.encrypt(4, bytes(16), 1, 0, b"", planted.magic_plaintext())
        answer = adapter.call(Request("decrypt", {"suite": 4, "base_key": bytes(16), "kid": 1, "metadata": b"",
                                                  "ciphertext": frame}))
        assert answer.ok and answer.fields["plaintext"] != planted.magic_plaintext()
    out = tmp_path / "campaign"
    code = main(["fuzz", "--impl", "python", "--impl", spec, "--max-time", "900", "--seed", "1", "--stop-on-first",
                 "--no-report", "--out", str(out), "-q"])
    text = capsys.readouterr().out
    assert code == 1, text
    index = json.loads((out / "index.json").read_text())
    (finding,) = index["findings"]
    assert finding["key"]["how"] == "output" and finding["key"]["op"] in ("decrypt", "context_decrypt")
    repro = json.loads(Path(finding["file"]).read_text())
    decrypts = [s for s in repro["steps"] if s["op"].endswith("decrypt")]
    assert decrypts[-1]["expect"]["ok"] is True
    print(f"planted bug found after {finding['after_s']}s, {finding['execs']} execs", file=sys.stderr)
    assert main(["replay", finding["file"], "--impl", "python"]) == 0
    assert main(["replay", finding["file"], "--impl", spec]) == 1

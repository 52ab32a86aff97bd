"""The benchmark runs, its JSON has the documented shape, every figure it reports was checked
against the reference, and the overhead model matches RFC 9605 Appendix B. Speed itself is
never asserted."""

import json
import sys

import pytest

from harness.adapters.inprocess import PythonAdapter
from harness.bench import inside, overhead
from harness.cli import main
from harness.model.wire import Request, Response
from tests.conftest import ROOT

NOBENCH = f"cmd:{sys.executable} {ROOT / 'tests' / 'harness' / 'bench' / 'nobench_shim.py'}"
CELLS = {(s, f) for s in (1, 4) for f in ("audio", "video-packet")}


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    assert main(["bench", "--quick", "--impl", "python", "--impl", "python-subprocess", "--impl", NOBENCH,
                 "--out", str(out)]) == 0
    return out / "latest"


def test_quick_bench_inside_table(quick):
    report = json.loads((quick / "bench.json").read_text())
    assert report["schema"] == "sframe-conformance-bench/v2"
    rows = [r for r in report["rows"] if r["via"] == "bench op"]
    assert {(r["implementation"], r["mode"], r["suite"], r["frame"]) for r in rows} == {
        (i, m, s, f) for i in ("python", "python-subprocess") for m in inside.MODES for s, f in CELLS}
    for r in rows:
        assert r["frames_per_s"] > 0 and r["count"] >= 1
        # Python's aead limit is cryptography's AES-GCM; the AES-CTR+HMAC suites have none.
        assert (r["ratio_to_limit"] is None) == (r["suite"] == 1)
        if r["ratio_to_limit"] is not None:
            assert r["ratio_to_limit"] == pytest.approx(r["frames_per_s"] / r["limit_frames_per_s"], rel=1e-3, abs=1e-4)


def test_an_implementation_without_the_bench_op_is_measured_through_the_pipe_and_said_so(quick):
    report = json.loads((quick / "bench.json").read_text())
    piped = [r for r in report["rows"] if r["via"] == "pipe"]
    assert {(r["mode"], r["suite"], r["frame"]) for r in piped} == {(m, s, f) for m in ("encrypt", "decrypt")
                                                                    for s, f in CELLS}
    assert all(r["ratio_to_limit"] is None and r["frames_per_s"] > 0 for r in piped)
    assert [n.split(":")[0] for n in report["notes"]] == ["cmd"] and "no bench op" in report["notes"][0]


def test_quick_bench_transport_and_overhead(quick):
    report = json.loads((quick / "bench.json").read_text())
    names = [t["name"] for t in report["transport"]]
    assert names[0] == "python (in process)"
    assert {"python-subprocess (pipelined)", "python-subprocess (one at a time)"} <= set(names)
    assert all(t["ops_per_s"] > 0 and t["ratio_to_in_process"] > 0 for t in report["transport"])
    assert report["harness"]["cases"] > 1800 and report["harness"]["s_per_case"] > 0
    # Measured bytes per ciphertext at KID 0x123 and CTR 0x10000: 1 + 2 + 3 + Nt.
    assert report["overhead"]["measured"]["suite 4"]["python"] == 22
    assert report["overhead"]["measured"]["suite 1"]["python"] == 16


def test_report_page_and_plots(quick):
    assert {"bench.json", "index.html", "bench.svg", "bench.png", "overhead.svg", "overhead.png"} <= {
        p.name for p in quick.iterdir()}
    html = (quick / "index.html").read_text()
    assert 'id="bench"' in html and 'id="overhead"' in html and "<svg" in html
    assert "no bench op" in html and "ratio_to_limit" in html


class _Skipping(PythonAdapter):
    """A bench op that answers without doing the work, or does the wrong work."""

    def __init__(self, lie: str) -> None:
        super().__init__(f"skipping-{lie}")
        self.lie = lie

    def handle(self, request: Request) -> Response:
        response = super().handle(request)
        if request.op != "bench" or not response.ok:
            return response
        fields = dict(response.fields)
        if self.lie == "ciphertext" and "ciphertext" in fields:
            fields["ciphertext"] = fields["ciphertext"][:-1] + bytes([fields["ciphertext"][-1] ^ 1])
        elif self.lie == "plaintext" and "plaintext" in fields:
            fields["plaintext"] = b""
        elif self.lie == "count":
            fields["count"] = 1
        elif self.lie == "elapsed":
            fields["elapsed_ns"] = -5
        return Response(True, fields)


@pytest.mark.parametrize("lie", ["ciphertext", "plaintext", "count", "elapsed"])
def test_a_bench_answer_that_skipped_or_botched_the_work_is_refused(lie):
    with pytest.raises(inside.BenchError, match="skipping"):
        inside.inside_rows(_Skipping(lie), [4], {"audio": 80}, repeats=1, target_s=0.001)


def test_bench_reports_a_failing_implementation(capsys):
    shim = ROOT / "tests" / "fixtures" / "faulty_shim.py"
    assert main(["bench", "--quick", "--impl", f"cmd:{sys.executable} {shim} crash 1000"]) == 1
    assert "failed during the benchmark" in capsys.readouterr().err


def test_overhead_matches_rfc9605_appendix_b():
    rows = {(r.scenario, r.scheme): r for r in overhead.analyse({"x": overhead.RFC_ASSUMED_SFRAME})}
    # RFC 9605 Table (audio): full-band speech, 22 bytes at 50 fps -> 8.6 kbps; SFrame alone, so minus SRTP.
    speech = rows[("full-band speech (20 ms)", "SFrame per frame, x + SRTP")].overhead_kbps
    assert round(speech - overhead.kbps(overhead.SRTP_TAG, 50), 1) == 8.6
    hd = rows[("1920x1080 60 fps", "SFrame per packet, x + SRTP")].overhead_kbps
    assert round(hd - overhead.kbps(overhead.SRTP_TAG, 780), 1) == 134.1
    # Per frame, SFrame + SRTP costs less than PERC's double encryption for video.
    assert rows[("1280x720 30 fps", "SFrame per frame, x + SRTP")].overhead_kbps < rows[
        ("1280x720 30 fps", "PERC double (RFC 8723)")].overhead_kbps


@pytest.mark.parametrize("spec", [
    pytest.param("c", marks=pytest.mark.native),
    pytest.param("js", marks=pytest.mark.node),
    pytest.param("rust-ring", marks=pytest.mark.rust),
    pytest.param("rust-rustcrypto", marks=pytest.mark.rust),
])
def test_a_bundled_bench_op_does_the_work_the_reference_does(spec):
    from harness.adapters.registry import open_adapter

    with open_adapter(spec) as adapter:
        assert "bench" in adapter.hello.capabilities
        suites = [s for s in (1, 4) if s in adapter.hello.suites]
        rows = inside.inside_rows(adapter, suites, {"audio": 80}, repeats=1, target_s=0.001)  # BenchError if not
    assert {r["mode"] for r in rows} == set(inside.MODES)
    assert all(r["ratio_to_limit"] is not None for r in rows if r["suite"] == 4)  # every one has a raw AES-GCM

"""The benchmark runs, its JSON has the documented shape, and the overhead model matches
RFC 9605 Appendix B. Speed itself is never asserted."""

import json
import sys

import pytest

from harness.bench import overhead
from harness.cli import main
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    assert main(["bench", "--quick", "--impl", "python", "--impl", "python-subprocess", "--out", str(out)]) == 0
    return out / "latest"


def test_quick_bench_schema(quick):
    report = json.loads((quick / "bench.json").read_text())
    assert report["schema"] == "sframe-conformance-bench/v1"
    rows = report["rows"]
    assert {(r["implementation"], r["op"], r["suite"], r["frame"]) for r in rows} == {
        (i, op, s, f) for i in ("python", "python-subprocess") for op in ("encrypt", "decrypt") for s in (1, 4)
        for f in ("audio", "video-packet")}
    for r in rows:
        assert r["min_frames_per_s"] <= r["frames_per_s"] <= r["max_frames_per_s"]
        assert r["ratio_to_raw"] > 0 and r["p50_us"] <= r["p99_us"]
    assert [lib["size"] for lib in report["library"]] == [1024, 65536]
    assert [t["name"] for t in report["transport"]] == [
        "raw AESGCM.encrypt", "python (in process)", "python-subprocess (pipelined)", "python-subprocess (unpipelined)"]
    assert report["harness"]["cases"] > 1800 and report["harness"]["s_per_case"] > 0
    # Measured bytes per ciphertext at KID 0x123 and CTR 0x10000: 1 + 2 + 3 + Nt.
    assert report["overhead"]["measured"]["suite 4"] == {"python": 22, "python-subprocess": 22}
    assert report["overhead"]["measured"]["suite 1"]["python"] == 16


def test_report_page_and_plots(quick):
    assert {"bench.json", "index.html", "bench.svg", "bench.png", "overhead.svg", "overhead.png"} <= {
        p.name for p in quick.iterdir()}
    html = (quick / "index.html").read_text()
    assert 'id="bench"' in html and 'id="overhead"' in html and "<svg" in html


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


def test_bench_reports_a_failing_implementation(capsys):
    shim = ROOT / "tests" / "fixtures" / "faulty_shim.py"
    assert main(["bench", "--quick", "--impl", f"cmd:{sys.executable} {shim} crash 1000"]) == 1
    assert "failed during the benchmark" in capsys.readouterr().err

"""The benchmark runs and its JSON has the documented shape; its speed is not asserted."""

import json

from harness.cli import main


def test_bench_json_schema(tmp_path, capsys):
    path = tmp_path / "bench.json"
    assert main(["bench", "--impl", "python-subprocess", "--ops", "50", "--repeats", "1", "--json", str(path)]) == 0
    report = json.loads(path.read_text())
    assert report["schema"] == "sframe-conformance-bench/v1"
    names = [m["name"] for m in report["results"]]
    assert names == ["raw AESGCM.encrypt", "python (in process)", "python-subprocess (pipelined)",
                     "python-subprocess (unpipelined)"]
    for m in report["results"]:
        assert m["min_ops_per_s"] <= m["ops_per_s"] <= m["max_ops_per_s"]
        assert m["ratio_to_raw_aead"] > 0 and m["ratio_to_in_process"] > 0
    assert report["results"][0]["ratio_to_raw_aead"] == 1.0
    assert "x in-process" in capsys.readouterr().out


def test_bench_reports_a_failing_implementation(tmp_path, capsys):
    import sys

    from tests.conftest import ROOT

    shim = ROOT / "tests" / "fixtures" / "faulty_shim.py"
    assert main(["bench", "--impl", f"cmd:{sys.executable} {shim} crash 1000", "--ops", "5", "--repeats", "1"]) == 1
    assert "failed during the benchmark" in capsys.readouterr().err

"""implementations/c: the plain and the ASan/UBSan builds pass what Python passes, over both
framings; the bench and timing ops answer what the reference computes; the planted timing-leak
build exists only when a test asks for it."""

import subprocess

import pytest

from harness.adapters.registry import C_SERVER, open_adapter
from harness.adapters.subprocess import SubprocessAdapter
from harness.model.wire import Request
from tests.implementations.conftest import assert_same_as_python, run_full
from tests.implementations.wire_checks import check_bench, check_timing, grades_by_framing

pytestmark = pytest.mark.native
ASAN = C_SERVER.with_name("sframe-server-asan")
C_DIR = C_SERVER.parent.parent


def test_c_matches_python(python_grades):
    assert_same_as_python(run_full("c"), python_grades)


def test_c_under_asan_and_ubsan(python_grades):
    # -fno-sanitize-recover: any ASan/UBSan report kills the server, which the harness grades "error".
    result = run_full(f"cmd:{ASAN}")
    assert result.restarts == 0
    assert_same_as_python(result, python_grades)


@pytest.mark.parametrize("binary", [C_SERVER, ASAN], ids=["plain", "asan"])
def test_binary_framing_grades_the_catalogue_as_json_lines_do(binary, python_grades):
    grades = grades_by_framing([str(binary)])
    assert grades["binary-v1"] == grades["json-lines"] == python_grades


@pytest.mark.parametrize("binary", [C_SERVER, ASAN], ids=["plain", "asan"])
@pytest.mark.parametrize("framings", [(), ("binary-v1",)], ids=["json-lines", "binary-v1"])
def test_bench_returns_the_reference_frames_in_every_mode(binary, framings):
    adapter = SubprocessAdapter([str(binary)], framings=framings)
    try:
        assert {"bench", "timing"} <= set(adapter.hello.capabilities)
        # The raw-AEAD limit exists for both AEAD kinds (CTR+HMAC suites 1-3 and 6-8 too).
        assert check_bench(adapter, (1, 4, 5, 7), aead_suites=(1, 4, 5, 7)) == 4 * 3 * 5
    finally:
        adapter.close()


@pytest.mark.parametrize("suite", [1, 4])
def test_timing_answers_one_duration_per_sample(suite):
    with open_adapter("c") as adapter:
        assert check_timing(adapter, suite) in ("rdtsc", "clock_gettime(CLOCK_MONOTONIC_RAW) ns")


def test_a_request_the_table_does_not_know_is_unsupported_and_bad_fields_are_invalid():
    with open_adapter("c") as adapter:
        unknown = adapter.call(Request("no_such_op", {}))
        missing = adapter.call(Request("encrypt", {"suite": 4}))
        bad_ctx = adapter.call(Request("context_free", {"ctx": "c999999"}))
    assert (unknown.error, missing.error, bad_ctx.error) == ("unsupported", "invalid_argument", "invalid_argument")


def test_the_planted_leak_build_is_test_only_and_otherwise_identical(tmp_path, python_grades):
    # `make planted-leak` compiles the early-exit tag compare (-DSF_PLANTED_TAG_LEAK) into OUT only;
    # `all` and `asan` never do, and it refuses to write next to the real server.
    dry = subprocess.run(["make", "-n", "-B", "-C", str(C_DIR), "all", "asan"], capture_output=True, text=True, check=True)
    assert "SF_PLANTED_TAG_LEAK" not in dry.stdout
    refused = subprocess.run(["make", "-C", str(C_DIR), "planted-leak", "OUT=build"], capture_output=True, text=True)
    assert refused.returncode != 0 and not (C_DIR / "build" / "sframe-server-planted-leak").exists()
    subprocess.run(["make", "-s", "-C", str(C_DIR), "planted-leak", f"OUT={tmp_path}"], check=True, capture_output=True)
    planted = tmp_path / "sframe-server-planted-leak"
    with open_adapter(f"cmd:{planted}") as adapter:
        assert adapter.hello.name == "sframe-c-planted-leak"
        # Only its timing differs: it still rejects every forgery and grades as Python does.
        assert check_timing(adapter, 4)
    assert_same_as_python(run_full(f"cmd:{planted}"), python_grades)

"""The atheris targets: seeds pass, invariants catch planted bugs, short campaigns run, findings replay."""

import subprocess
import sys

import pytest

from harness.adapters.registry import open_adapter
from harness.cli import main
from harness.engine.runner import run_case
from harness.fuzz import libfuzzer
from harness.model.grading import Grade
from harness.model.repro import load_repro

pytestmark = pytest.mark.fuzz


@pytest.mark.parametrize("name", libfuzzer.TARGETS)
def test_seed_corpus_passes(name):
    target = libfuzzer.load_target(name)
    seeds = list(target.seeds())
    assert len(seeds) >= 8
    for data in seeds:
        target.TestOneInput(data)


@pytest.mark.parametrize("name", libfuzzer.TARGETS)
def test_seed_cases_replay_against_python(name):
    target = libfuzzer.load_target(name)
    with open_adapter("python") as adapter:
        for data in list(target.seeds())[::50]:
            outcome = run_case(adapter, target.to_case(data))
            assert outcome.grade in (Grade.PASS, Grade.NON_STRICT), (data.hex(), outcome.detail)


def test_decrypt_invariant_catches_an_unchecked_tag(monkeypatch):
    from sframe_py import aead

    target = libfuzzer.load_target("decrypt")
    seed = next(s for s in target.seeds() if s[0] == 0)  # suite 1: AES-CTR + HMAC
    tampered = seed[:-1] + bytes([seed[-1] ^ 1])
    target.TestOneInput(tampered)  # correct code: rejected, nothing to check
    monkeypatch.setattr(aead.hmac, "compare_digest", lambda a, b: True)
    with pytest.raises(AssertionError, match="not authentic"):
        target.TestOneInput(tampered)


def test_header_invariant_catches_a_wrong_parse(monkeypatch):
    import sframe_py.header as header

    target = libfuzzer.load_target("header")
    monkeypatch.setattr(target, "parse_header", lambda data: header.Header(0, 0, bytes(data[:1])))
    with pytest.raises(AssertionError):
        target.TestOneInput(bytes.fromhex("9901234567"))


def test_context_invariant_catches_a_counter_that_wraps(monkeypatch):
    import sframe_py.context as context

    target = libfuzzer.load_target("context")
    monkeypatch.setattr(context, "next_counter", lambda ctr: (ctr + 1) % (1 << 64))
    with pytest.raises(AssertionError, match="counter_exhausted"):
        for data in target.seeds():
            target.TestOneInput(data)


@pytest.mark.parametrize("name", libfuzzer.TARGETS)
def test_short_campaign(name, tmp_path, monkeypatch):
    monkeypatch.setattr(libfuzzer, "FUZZ", _scratch_fuzz_dir(tmp_path))
    assert main(["fuzz", "--target", name, "--max-time", "2"]) == 0
    assert any((tmp_path / "fuzz" / "corpus" / name).iterdir())


def _scratch_fuzz_dir(tmp_path):
    # The targets and dictionaries are read from the real fuzz/, corpus and findings go to tmp.
    scratch = tmp_path / "fuzz"
    (scratch / "dictionaries").mkdir(parents=True)
    for path in libfuzzer.FUZZ.glob("fuzz_*.py"):
        (scratch / path.name).symlink_to(path)
    for path in (libfuzzer.FUZZ / "dictionaries").iterdir():
        (scratch / "dictionaries" / path.name).symlink_to(path)
    return scratch


def test_artifacts_become_reproducers(tmp_path, monkeypatch):
    monkeypatch.setattr(libfuzzer, "FUZZ", _scratch_fuzz_dir(tmp_path))
    findings = libfuzzer.findings_dir("header")
    findings.mkdir(parents=True)
    (findings / "crash-0123abcd").write_bytes(bytes.fromhex("9901"))  # truncated: must be malformed
    [repro] = libfuzzer.save_reproducers("header")
    assert load_repro(repro).steps[0].errors == ("malformed",)
    assert main(["replay", str(repro), "--impl", "python"]) == 0
    assert libfuzzer.save_reproducers("header") == []  # once only


def test_corpus_merge_and_minimise(tmp_path, monkeypatch):
    monkeypatch.setattr(libfuzzer, "FUZZ", _scratch_fuzz_dir(tmp_path))
    assert main(["corpus", "seed", "--target", "header"]) == 0
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "a").write_bytes(b"\xff" + bytes(16))
    assert main(["corpus", "merge", "--target", "header", "--from", str(extra)]) == 0
    before = len(list(libfuzzer.corpus_dir("header").iterdir()))
    assert main(["corpus", "minimise", "--target", "header"]) == 0
    assert 0 < len(list(libfuzzer.corpus_dir("header").iterdir())) < before


def test_targets_run_standalone_as_libfuzzer_binaries():
    # ClusterFuzzLite runs the target file itself; -runs=0 just loads and executes the seed inputs given.
    result = subprocess.run([sys.executable, str(libfuzzer.target_path("header")), "-runs=100"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]

"""The format-agnostic property suite: quiet on a correct implementation, finds medooze's real bugs on its own."""

import json
import shutil
from pathlib import Path

import pytest

from harness.adapters.registry import open_adapter
from harness.cli import main
from harness.fuzz import properties

pytestmark = pytest.mark.fuzz


def test_all_properties_hold_for_the_reference(tmp_path):
    with open_adapter("python") as adapter:
        report = properties.check(adapter, list(properties.PROPERTIES),
                                  properties.Config(seed=0, max_examples=30, out=tmp_path))
    assert report.checked == list(properties.PROPERTIES)
    assert not report.findings and not report.errors


def test_a_planted_bug_breaks_the_properties(tmp_path, monkeypatch):
    from tests.fixtures.ctr32_shim import plant

    plant(monkeypatch.setattr)  # CTR cut to 32 bits in the nonce
    with open_adapter("python") as adapter:
        report = properties.check(adapter, ["keystream"], properties.Config(seed=0, max_examples=200, out=tmp_path))
    assert [f.prop for f in report.findings] == ["keystream"]


def test_cli(tmp_path, capsys):
    assert main(["properties", "--impl", "python", "--max-examples", "10", "--out", str(tmp_path)]) == 0
    assert "all properties hold" in capsys.readouterr().out
    assert main(["properties", "--impl", "python", "--only", "nope"]) == 2


@pytest.mark.node
@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_finds_the_medooze_bugs_on_its_own(tmp_path):
    with open_adapter("medooze") as adapter:
        report = properties.check(adapter, list(properties.PROPERTIES),
                                  properties.Config(seed=0, max_examples=100, out=tmp_path))
    found = {(f.prop, f.kind): f for f in report.findings}
    # CTR >= 2^32 is mis-encoded in the header: the frame decrypts to wrong plaintext, no error.
    corrupt = found[("roundtrip", "wrong-plaintext")]
    assert "CTR 4294967296" in corrupt.message
    # The clear "skip" prefix is outside the MAC: flipping a bit in it still decrypts.
    flipped = json.loads(Path(found[("bitflip", "accepted")].file).read_text())
    assert flipped["finding"]["details"]["byte"] < flipped["finding"]["details"]["skip"]
    for finding in (corrupt, found[("bitflip", "accepted")]):
        assert main(["replay", finding.file, "--impl", "medooze"]) == 1
        assert main(["replay", finding.file, "--impl", "python"]) != 2

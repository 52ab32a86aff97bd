import json

import pytest

from harness.catalogue.mls_exporter import derive_secret, expand_with_label, mls_exporter, sframe_base_key, varint
from tests.conftest import ROOT

MLS_VECTORS = ROOT / "vectors" / "mls"


def _load(name: str) -> list[dict]:
    return json.loads((MLS_VECTORS / name).read_text())


def test_exporter_matches_every_rfc9420_key_schedule_vector():
    checked = 0
    for group in _load("mls-key-schedule.json"):
        for epoch in group["epochs"]:
            x = epoch["exporter"]
            # The vectors' exporter label is a string that happens to look like hex; context is hex.
            out = mls_exporter(group["cipher_suite"], bytes.fromhex(epoch["exporter_secret"]), x["label"].encode(),
                               bytes.fromhex(x["context"]), x["length"])
            assert out.hex() == x["secret"], (group["cipher_suite"], checked)
            checked += 1
    assert checked == 35


def test_expand_with_label_and_derive_secret_match_crypto_basics():
    suites = set()
    for v in _load("mls-crypto-basics.json"):
        s, d, e = v["cipher_suite"], v["derive_secret"], v["expand_with_label"]
        assert derive_secret(s, bytes.fromhex(d["secret"]), d["label"].encode()).hex() == d["out"]
        assert expand_with_label(s, bytes.fromhex(e["secret"]), e["label"].encode(), bytes.fromhex(e["context"]),
                                 e["length"]).hex() == e["out"]
        suites.add(s)
    assert suites == set(range(1, 8))


def test_sframe_base_keys_from_the_requirements_list():
    # MLS-01: MLS suite 1, epoch 0 exporter secret; the length is the SFrame suite's Nk.
    secret = bytes.fromhex(_load("mls-key-schedule.json")[0]["epochs"][0]["exporter_secret"])
    assert secret.hex().startswith("5a097e14")
    k1 = sframe_base_key(1, secret, 1)
    assert len(k1) == 48 and k1.hex().startswith("a53802ed") and k1.hex().endswith("2ddecb")
    assert sframe_base_key(1, secret, 4).hex() == "ac05c9e087590fc123efe6533126f808"
    k5 = sframe_base_key(1, secret, 5)
    assert len(k5) == 32 and k5.hex().startswith("892e1176") and k5.hex().endswith("bb0c8dfc")
    assert len(sframe_base_key(1, secret, 6)) == 96
    assert sframe_base_key(1, secret, 2) == k1  # same Nk, and the SFrame suite is not in the label


def test_varint_boundaries():
    assert [varint(n).hex() for n in (0, 63, 64, 16383, 16384, 2**30 - 1)] == [
        "00", "3f", "4040", "7fff", "80004000", "bfffffff"]
    with pytest.raises(ValueError):
        varint(2**30)

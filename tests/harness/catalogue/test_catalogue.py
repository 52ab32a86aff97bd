from collections import Counter

from harness.adapters.inprocess import PythonAdapter
from harness.catalogue import all_cases, generate, official_cases, select
from harness.model.cases import Expected
from harness.model.requirements import REQUIREMENTS


def test_catalogue_size_and_traceability():
    cases = all_cases()
    assert len(cases) >= 300
    assert len({r for c in cases for r in c.requirements}) >= 25
    assert len({c.id for c in cases}) == len(cases), "case ids are unique"
    for c in cases:
        assert c.requirements and all(r in REQUIREMENTS for r in c.requirements), c.id
        assert c.section == REQUIREMENTS[c.requirements[0]].section
        assert c.steps


def test_every_official_vector_becomes_a_case():
    ids = Counter(c.id.split("/")[1] for c in official_cases())
    assert ids == {"header": 289, "aead": 6, "sframe": 24}  # 3+3 AEAD; 8 suites x (encrypt, decrypt, derive)


def test_generated_vectors_regenerate_byte_identically():
    assert generate.stale(lambda: PythonAdapter().call) == []


def test_generated_vectors_cover_negatives_in_every_suite():
    cases = all_cases()
    invalid = [c for c in cases if c.result is Expected.INVALID]
    assert len(invalid) > 400
    assert {c.suite for c in invalid if c.id.startswith("gen/decrypt/suite-")} == set(range(1, 9))
    flags = {f for c in cases for f in c.flags}
    assert {"CtrTruncation", "NonMinimalHeader", "TagBitFlip", "Truncation", "WrongSuite"} <= flags


def test_selection_by_id_requirement_flag_and_glob():
    cases = all_cases()
    assert {c.id for c in select(cases, only=["rfc9605/header/0"])} == {"rfc9605/header/0"}
    assert all("ENC-02" in c.requirements for c in select(cases, only=["ENC-02"]))
    assert all("CtrTruncation" in c.flags for c in select(cases, only=["CtrTruncation"]))
    rfc = select(cases, only=["rfc9605/*"])
    assert len(rfc) == 319
    assert not select(rfc, exclude=["rfc9605/*"])

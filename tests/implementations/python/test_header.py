import pytest
from hypothesis import given
from hypothesis import strategies as st

from sframe_py import U64_MAX, InvalidArgumentError, MalformedError, encode_header, parse_header

u64 = st.integers(min_value=0, max_value=U64_MAX)


def test_official_header_vectors(rfc_vectors):
    assert len(rfc_vectors["header"]) == 289
    for v in rfc_vectors["header"]:
        assert encode_header(v["kid"], v["ctr"]).hex() == v["encoded"]
        h = parse_header(bytes.fromhex(v["encoded"]))
        assert (h.kid, h.ctr, h.encoded.hex(), h.minimal) == (v["kid"], v["ctr"], v["encoded"], True)


@pytest.mark.parametrize("kid,ctr,encoded", [
    (0, 0, "00"), (7, 7, "77"), (5, 3, "53"), (7, 8, "7808"), (8, 7, "8708"), (8, 8, "880808"),
    (0x7F, 0x7F, "887f7f"), (U64_MAX, 0, "f0ffffffffffffffff"), (0, 0x100, "090100"),
])
def test_boundary_encodings(kid, ctr, encoded):
    assert encode_header(kid, ctr).hex() == encoded


@given(u64, u64, st.binary(max_size=8))
def test_round_trip_ignores_trailing_body(kid, ctr, body):
    encoded = encode_header(kid, ctr)
    h = parse_header(encoded + body)
    assert (h.kid, h.ctr, h.encoded, h.length) == (kid, ctr, encoded, len(encoded))


@pytest.mark.parametrize("data", ["", "08", "0f01", "9901", "f0ffffffffffffff", "ff" * 16])
def test_empty_and_truncated_input_is_malformed(data):
    with pytest.raises(MalformedError):
        parse_header(bytes.fromhex(data))


@pytest.mark.parametrize("data,kid,ctr", [("0805", 0, 5), ("0900ff", 0, 0xFF), ("a90001234567", 0x123, 0x4567)])
def test_non_minimal_is_parsed_and_reported(data, kid, ctr):
    h = parse_header(bytes.fromhex(data))
    assert (h.kid, h.ctr, h.minimal) == (kid, ctr, False)
    assert h.encoded.hex() == data  # the AAD must be the bytes as received


@pytest.mark.parametrize("kid,ctr", [(2**64, 0), (0, 2**64), (-1, 0), (0, -1)])
def test_values_outside_u64_are_refused(kid, ctr):
    with pytest.raises(InvalidArgumentError):
        encode_header(kid, ctr)

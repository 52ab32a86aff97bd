import pytest

from harness.model.protocol import ProtocolError, decode_line, encode_line, from_wire, to_wire


def test_round_trip_of_binary_and_u64_fields():
    fields = {"suite": 4, "kid": 2**64 - 1, "ctr": 0, "base_key": b"\x00\xff", "metadata": b"", "length": 3}
    wire = to_wire(fields)
    assert wire == {"suite": 4, "kid": "18446744073709551615", "ctr": "0", "base_key": "00ff", "metadata": "",
                    "length": 3}
    assert from_wire(wire) == fields


@pytest.mark.parametrize("wire,message", [
    ({"kid": 5}, "must be a decimal string"),
    ({"kid": "-1"}, "must be a decimal string"),
    ({"ctr": "1e3"}, "must be a decimal string"),
    ({"ciphertext": "0g"}, "not valid hex"),
    ({"plaintext": 12}, "must be a hex string"),
])
def test_bad_wire_values_name_the_field(wire, message):
    with pytest.raises(ProtocolError, match=message):
        from_wire(wire)


def test_lines():
    assert encode_line({"id": 1, "op": "hello"}) == b'{"id":1,"op":"hello"}\n'
    assert decode_line(b'{"id":1}\n') == {"id": 1}
    for bad in (b"nope\n", b"[1]\n", b"\xff\n"):
        with pytest.raises(ProtocolError):
            decode_line(bad)

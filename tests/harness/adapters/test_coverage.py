

def test_comparison_hints_are_decoded_from_the_raw_log() -> None:
    """The driver keeps each input's log raw and decodes it only when it mutates that input."""
    import numpy as np

    from harness.adapters.coverage import _CMPLOG_ENTRY, decode_hints

    log = np.array([(0x8D, 0x11, 1), (0xBEEF, 0x1234, 2), (7, 9, 3), (1 << 40, 5, 8)], dtype=_CMPLOG_ENTRY).tobytes()
    assert decode_hints(log) == {(1, 0x8D, 0x11), (2, 0xBEEF, 0x1234), (8, 1 << 40, 5)}  # width 3 is no width
    assert decode_hints(b"") == set()

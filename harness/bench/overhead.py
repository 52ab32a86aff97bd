"""Bandwidth overhead of SFrame against SRTP alone and PERC double encryption.

The scenarios and the 22-byte worst case (config 1 + KID 2 + CTR 3 + tag 16) are
RFC 9605 Appendix B's own assumptions (B.1, tables in B.2 and B.3). The SFrame
bytes per ciphertext are measured from ciphertexts an implementation produced,
not computed. Hop-by-hop protection is still needed under SFrame, so SFrame
rows add SRTP's tag per packet, which makes them comparable with PERC, whose
figure already includes its outer (hop-by-hop) layer:

- SRTP alone: AES_CM_128_HMAC_SHA1_80, a 10-byte tag per packet (RFC 3711 §4.2, RFC 4568).
- PERC double encryption (RFC 8723): AEAD_AES_128_GCM_DOUBLE carries an inner and an
  outer 16-byte tag (RFC 8723 §5) plus the Original Header Block header extension, at
  least 1 byte (RFC 8723 §5.1; more when the media distributor changes header fields).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

SRTP_TAG = 10
PERC_PER_PACKET = 16 + 16 + 1
RFC_ASSUMED_SFRAME = 1 + 2 + 3 + 16


@dataclass(frozen=True)
class Scenario:
    name: str
    kind: str  # audio | video
    fps: float
    pps: float  # packets per second
    base_kbps: float


# RFC 9605 Appendix B.2 (audio, one packet per frame) and B.3 (video per packet).
SCENARIOS = (
    Scenario("narrow-band speech (120 ms)", "audio", 8.3, 8.3, 8),
    Scenario("full-band speech (20 ms)", "audio", 50, 50, 32),
    Scenario("full-band stereo music (10 ms)", "audio", 100, 100, 128),
    Scenario("426x240 7.5 fps", "video", 7.5, 7.5, 45),
    Scenario("640x360 15 fps", "video", 15, 30, 200),
    Scenario("640x360 30 fps", "video", 30, 60, 400),
    Scenario("1280x720 30 fps", "video", 30, 180, 1500),
    Scenario("1920x1080 60 fps", "video", 60, 780, 7200),
)


def kbps(bytes_per_unit: float, units_per_second: float) -> float:
    # RFC 9605 Appendix B: OverheadKbps = bytes * 8 * CTPerSecond / 1024.
    return bytes_per_unit * 8 * units_per_second / 1024


@dataclass(frozen=True)
class Row:
    scenario: str
    kind: str
    base_kbps: float
    scheme: str
    overhead_kbps: float
    overhead_percent: float


def analyse(sframe_bytes: dict[str, int]) -> list[Row]:
    """sframe_bytes: label (e.g. "suite 4 (measured)") -> SFrame bytes per ciphertext."""
    rows = []
    for s in SCENARIOS:
        schemes = {"SRTP alone": kbps(SRTP_TAG, s.pps), "PERC double (RFC 8723)": kbps(PERC_PER_PACKET, s.pps)}
        for label, per_ct in sframe_bytes.items():
            schemes[f"SFrame per frame, {label} + SRTP"] = kbps(per_ct, s.fps) + kbps(SRTP_TAG, s.pps)
            if s.kind == "video":
                schemes[f"SFrame per packet, {label} + SRTP"] = kbps(per_ct + SRTP_TAG, s.pps)
        for scheme, value in schemes.items():
            rows.append(Row(s.name, s.kind, s.base_kbps, scheme, round(value, 2), round(100 * value / s.base_kbps, 2)))
    return rows


def to_json(rows: list[Row], measured: dict[str, Any]) -> dict[str, Any]:
    return {"assumptions": {"rfc9605_sframe_bytes": RFC_ASSUMED_SFRAME, "srtp_tag": SRTP_TAG,
                            "perc_per_packet": PERC_PER_PACKET, "kbps": "bytes * 8 * units per second / 1024"},
            "measured": measured, "rows": [asdict(r) for r in rows]}

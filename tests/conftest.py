from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RFC_VECTORS = ROOT / "vectors" / "rfc9605"


@pytest.fixture(scope="session")
def rfc_vectors() -> dict:
    return json.loads((RFC_VECTORS / "test-vectors.json").read_text())


@pytest.fixture(scope="session")
def sframe_vectors() -> list[dict]:
    """All eight official SFrame vectors: suites 1-5 from the RFC, 6-8 post-RFC."""
    rfc = json.loads((RFC_VECTORS / "test-vectors.json").read_text())["sframe"]
    post = json.loads((RFC_VECTORS / "test-vectors-aes256-post-rfc.json").read_text())["sframe_aes_256_ctr_hmac"]
    return rfc + post

"""Shared fixtures, and one rule for tests that need headless Chromium.

Rules: a test marked ``browser`` (pytest.mark.browser, on the test or its
module) runs where Chromium and Playwright are installed; elsewhere it is
skipped with the one-line reason (how to install Chromium), except in CI
(``CI`` set), where a skip would hide the browser tests: there it fails.
Ctrl-C (SIGINT) is a real KeyboardInterrupt in this process and its children,
even when the suite was started in the background (``make test &``), where the
shell leaves SIGINT ignored and every child would inherit that: the interrupt
tests send SIGINT and must see it handled.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
RFC_VECTORS = ROOT / "vectors" / "rfc9605"


def pytest_configure(config: pytest.Config) -> None:
    # An ignored disposition survives exec; a handler does not (children start with the default, and
    # CPython turns that into KeyboardInterrupt).
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.hookimpl(tryfirst=True)  # before fixtures start a browser
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("browser") is None:
        return
    from harness.adapters.browser import unavailable_reason

    reason = unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests: {reason}", pytrace=False)
    pytest.skip(reason)


def _vectors(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RFC_VECTORS / name).read_text())
    return data


@pytest.fixture(scope="session")
def rfc_vectors() -> dict[str, Any]:
    return _vectors("test-vectors.json")


@pytest.fixture(scope="session")
def sframe_vectors() -> list[dict[str, Any]]:
    """All eight official SFrame vectors: suites 1-5 from the RFC, 6-8 post-RFC."""
    rfc: list[dict[str, Any]] = _vectors("test-vectors.json")["sframe"]
    post: list[dict[str, Any]] = _vectors("test-vectors-aes256-post-rfc.json")["sframe_aes_256_ctr_hmac"]
    return rfc + post

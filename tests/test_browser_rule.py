"""tests/conftest.py's rule for `browser` tests: without Chromium they skip,
except in CI, where the skip would hide them and they fail."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests import conftest


def _item(*markers: str) -> SimpleNamespace:
    return SimpleNamespace(get_closest_marker=lambda name: object() if name in markers else None)


def test_without_chromium_browser_tests_skip_and_fail_in_ci(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SFRAME_CHROMIUM", "/nonexistent/chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y chromium"):
        conftest.pytest_runtest_setup(_item("browser", "slow"))
    conftest.pytest_runtest_setup(_item("slow"))  # not a browser test: runs
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the browser tests"):
        conftest.pytest_runtest_setup(_item("browser"))

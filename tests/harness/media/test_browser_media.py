"""Media mode: real WebRTC frames between headless Chromium and the aiortc SFU,
decrypted by other implementations (harness/sfu/media.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.adapters.registry import open_adapter
from harness.media import _aiortc_internals as internals
from harness.media.scenarios import MediaOptions, clear_bytes, run_media, scenario_count, write

SUITES = (4, 1)  # one GCM, one CTR+HMAC
KINDS = ("video", "audio")


def test_vp8_header_bytes_stay_clear_opus_is_encrypted_whole():
    assert clear_bytes("video", bytes([0x10]) + bytes(20)) == 10  # bit 0 clear: key frame
    assert clear_bytes("video", bytes([0x11]) + bytes(20)) == 3  # delta frame
    assert clear_bytes("video", bytes([0x10, 1])) == 2
    assert clear_bytes("audio", bytes([0x10]) + bytes(20)) == 0


def test_aiortc_hooks_are_restored():
    import aioice.ice
    import aiortc.rtcrtpreceiver

    ice, decoder = aioice.ice.get_host_addresses, aiortc.rtcrtpreceiver.get_decoder
    with internals.loopback_ice(), internals.no_decoding():
        assert aioice.ice.get_host_addresses(True, False) == ["127.0.0.1"]
        assert aiortc.rtcrtpreceiver.get_decoder(None).decode(b"x") == []
    assert (aioice.ice.get_host_addresses, aiortc.rtcrtpreceiver.get_decoder) == (ice, decoder)


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict:
    # Without Chromium the tests using this skip, and fail in CI (the `browser` marker: tests/conftest.py).
    options = MediaOptions(suites=SUITES, kinds=KINDS, seconds=2.0, prebuilt_frames=45)
    ticks: list[tuple[int, int | None, int]] = []
    result = run_media(options, open_adapter, on_progress=lambda *tick: ticks.append(tick))
    path = tmp_path_factory.mktemp("media") / "media.json"
    write(result, path)
    doc = json.loads(path.read_text())  # what the report gets: JSON, not Python objects
    return {**doc, "test_progress": ticks, "test_planned": scenario_count(options)}


def _one(media: dict, scenario: str, impl: str, kind: str, suite: int) -> dict:
    found = [s for s in media["scenarios"]
             if (s["scenario"], s["impl"], s["kind"], s["suite"]) == (scenario, impl, kind, suite)]
    assert len(found) == 1, (scenario, impl, kind, suite)
    return found[0]


pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.native, pytest.mark.node]


def test_every_scenario_passes(media):
    problems = [(s["scenario"], s["impl"], s["kind"], s["suite"], s["problems"]) for s in media["scenarios"] if not s["ok"]]
    assert not problems
    n = media["test_planned"]  # the progress line's total is the number of scenarios that run
    assert len(media["scenarios"]) == n and media["test_progress"] == [(i, n, 0) for i in range(1, n + 1)]
    assert media["ok"]
    assert media["browser"]["script_transform"]
    assert "not available" in media["native_sframe"] or media["browser"]["native_sframe_available"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("suite", SUITES)
def test_browser_frames_decrypt_identically_in_python_c_and_js(media, kind, suite):
    s = _one(media, "browser->sfu", "browser-js", kind, suite)
    assert s["frames_sent"] > 20
    held_back = {"video": 1, "audio": 4}[kind]  # frames aiortc's jitter buffer never releases
    assert s["frames_captured"] >= s["frames_sent"] - held_back
    assert s["identical"] == {"python": s["frames_captured"], "c": s["frames_captured"], "js": s["frames_captured"]}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("suite", SUITES)
def test_python_frames_decrypt_in_the_browser_and_tampered_ones_are_dropped(media, kind, suite):
    s = _one(media, "sfu->browser", "browser-js", kind, suite)
    assert s["frames_decrypted"] == s["frames_sent"] == 45
    assert s["tampered_sent"] > 0 and s["tampered_dropped"] == s["tampered_sent"]
    if kind == "video":
        assert s["frames_decoded"] >= s["frames_sent"] - 1
    else:
        assert s["audio_samples_received"] > 0


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("suite", SUITES)
def test_browser_to_browser_through_the_sfu(media, kind, suite):
    s = _one(media, "browser->sfu->browser", "browser-js", kind, suite)
    assert s["frames_sent"] > 20
    assert s["frames_identical"] == s["frames_decrypted"] >= s["frames_sent"] - {"video": 1, "audio": 4}[kind]
    if kind == "video":
        assert s["frames_decoded"] >= s["frames_decrypted"] - 1


@pytest.mark.parametrize("kind", KINDS)
def test_medooze_draft_frames_cross_the_sfu_but_no_rfc_receiver_opens_them(media, kind):
    suite = {"video": 1, "audio": 3}[kind]
    own = _one(media, "browser->sfu->browser", "browser-medooze", kind, suite)
    assert own["frames_decrypted"] >= own["frames_sent"] - 4 > 20
    rfc = _one(media, "browser->sfu", "browser-medooze", kind, suite)
    assert rfc["frames_captured"] > 20 and not rfc["interoperable"]
    assert rfc["identical"] == {"python": 0, "c": 0, "js": 0}
    assert media["interop"]["browser-medooze"]["python"].startswith("0/")


def test_setup_time_and_rates_are_reported(media):
    for s in media["scenarios"]:
        assert 0 < s["setup_seconds"] < 20 and s["frames_per_second"] > 0, s
    assert media["browser"]["launch_seconds"] > 0


def test_no_browser_is_left_running(media):
    leftovers = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _is_ours(p)]
    assert not leftovers


def _is_ours(proc: Path) -> bool:
    try:
        return b"sframe-browser-" in (proc / "cmdline").read_bytes()
    except OSError:
        return False

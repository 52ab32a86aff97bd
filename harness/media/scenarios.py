"""Media mode: SFrame over real WebRTC, headless Chromium <-> aiortc SFU on loopback.

Three scenarios, each for VP8 and Opus and each cipher suite asked for:

- ``browser->sfu``: the page's fake camera/microphone, encrypted in an
  RTCRtpScriptTransform worker; the SFU captures every reassembled frame and
  the harness decrypts them with other implementations (python, c, js),
  checking each against the SHA-256 the worker reported.
- ``sfu->browser``: frames built and encrypted by the harness (python), sent as
  pre-encoded packets, plus tampered copies; the page's receive transform must
  decrypt every genuine frame and drop every tampered one.
- ``browser->sfu->browser``: the SFU forwards ciphertext between two page
  peers, relaying keyframe requests upstream: N sent, N decrypted, N decoded.

The result is a JSON-able dict (``run_media``), for the report.
"""

from __future__ import annotations

import asyncio
import fractions
import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from ..adapters.base import Adapter
from ..adapters.browser import BrowserSession
from ..adapters.registry import REGISTRY, media_impls
from ..catalogue.inputs import BASE_KEY
from ..model.progress import OnProgress
from ..model.wire import Request
from . import _aiortc_internals as internals
from .forwarder import (
    CLOCK_RATE,
    Captured,
    EncodedTrack,
    egress_to_browser,
    ingress_from_browser,
    relay_keyframe_requests,
)

KID = 7  # small: npm sframe 0.1.0 keeps KIDs as JS Numbers below 2^40
FPS = {"video": 30, "audio": 50}
# npm sframe 0.1.0 has one cipher; its "video" and "audio" tags match suites 1 and 3 by length.
MEDOOZE_SUITE = {"video": 1, "audio": 3}


def lib(impl: str) -> str:
    """The library the page's transforms load for ``impl`` (the registry's ``media_lib``)."""
    name = REGISTRY[impl].media_lib
    if name is None:
        raise ValueError(f"{impl} has no media mode; media implementations: {', '.join(media_impls())}")
    return name


@dataclass(frozen=True)
class MediaOptions:
    impls: tuple[str, ...] = media_impls()
    suites: tuple[int, ...] = (4, 1)
    kinds: tuple[str, ...] = ("video", "audio")
    seconds: float = 3.0  # of live media per browser-sent scenario
    prebuilt_frames: int = 60  # per sfu->browser scenario
    decrypters: tuple[str, ...] = ("python", "c", "js")
    encrypter: str = "python"
    scenario_timeout: float = 90.0


def clear_bytes(kind: str, frame: bytes) -> int:
    """The VP8 payload header kept clear (and passed as SFrame metadata): 10
    bytes on key frames, 3 on delta frames, told by bit 0 of the first byte,
    which Chromium reads before its receive transform runs. Opus: none.
    media-worker.mjs applies the same rule."""
    if kind != "video" or not frame:
        return 0
    return min(len(frame), 10 if frame[0] & 1 == 0 else 3)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def transform(impl: str, suite: int) -> dict[str, Any]:
    return {"lib": lib(impl), "suite": suite, "baseKey": BASE_KEY.hex(), "kid": str(KID)}


# ---------------------------------------------------------------------------
# Frames the harness builds
# ---------------------------------------------------------------------------


def vp8_frames(count: int, gop: int = 15, width: int = 160, height: int = 120) -> list[bytes]:
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base = fractions.Fraction(1, FPS["video"])
    encoder.gop_size = gop
    encoder.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    out: list[bytes] = []
    for i in range(count):
        frame = av.VideoFrame(width, height, "yuv420p")
        row = bytes((x + 4 * i) & 0xFF for x in range(width))  # a moving gradient
        frame.planes[0].update(row * height)
        frame.planes[1].update(b"\x80" * (width * height // 4))
        frame.planes[2].update(b"\x80" * (width * height // 4))
        frame.pts = i
        frame.pict_type = av.video.frame.PictureType.I if i % gop == 0 else av.video.frame.PictureType.NONE
        out.extend(bytes(p) for p in encoder.encode(frame))
    out.extend(bytes(p) for p in encoder.encode(None))
    return out[:count]


def opus_frames(count: int) -> list[bytes]:
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.layout, encoder.format = 48_000, "mono", "s16"
    out: list[bytes] = []
    for i in range(count):
        frame = av.AudioFrame(format="s16", layout="mono", samples=960)
        tone = bytes(((i * 960 + n) * 7 & 0xFF) for n in range(960 * 2))
        frame.planes[0].update(tone)
        frame.sample_rate, frame.pts, frame.time_base = 48_000, i * 960, fractions.Fraction(1, 48_000)
        out.extend(bytes(p) for p in encoder.encode(frame))
    out.extend(bytes(p) for p in encoder.encode(None))
    return out[:count]


def _decrypt_all(adapter: Adapter, kind: str, suite: int, frames: Sequence[bytes]) -> list[bytes | None]:
    requests = [Request("decrypt", {"suite": suite, "base_key": BASE_KEY, "kid": KID,
                                    "metadata": f[: clear_bytes(kind, f)], "ciphertext": f[clear_bytes(kind, f):]})
                for f in frames]
    return [f[: clear_bytes(kind, f)] + r.fields["plaintext"] if r.ok else None
            for f, r in zip(frames, adapter.run(requests))]


# ---------------------------------------------------------------------------
# Scenarios: the async part runs in the browser session's loop
# ---------------------------------------------------------------------------


async def _first_frame(captured: Captured, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not captured.frames:
        if time.monotonic() > deadline:
            raise TimeoutError("no frame reached the SFU")
        await asyncio.sleep(0.01)


async def _browser_to_sfu(page: Any, kind: str, tf: dict[str, Any], seconds: float) -> dict[str, Any]:
    captured = Captured()
    started = time.perf_counter()
    pc = await ingress_from_browser(page, "b2s", kind, tf, captured.add)
    setup = time.perf_counter() - started
    try:
        await _first_frame(captured)
        await asyncio.sleep(seconds)
        await page.evaluate("n => media.stopSending(n)", "b2s")
        await asyncio.sleep(0.7)  # let the frames in flight land
        duration = time.perf_counter() - (captured.first_at or started)
        taken = await page.evaluate("n => media.takeRecords(n)", "b2s")
    finally:
        await pc.close()
        await page.evaluate("media.closeAll()")
    return {"setup": setup, "duration": duration, "captured": [f for f, _ in captured.frames], **taken}


async def _sfu_to_browser(page: Any, kind: str, tf: dict[str, Any], wire: list[bytes]) -> dict[str, Any]:
    track = EncodedTrack(kind)
    started = time.perf_counter()
    pc = await egress_to_browser(page, "s2b", track, tf)
    setup = time.perf_counter() - started
    try:
        step = CLOCK_RATE[kind] // FPS[kind]
        sending = time.perf_counter()
        for index, frame in enumerate(wire):
            track.push(frame, index * step)
            await asyncio.sleep(1 / FPS[kind])
        await asyncio.sleep(1.0)
        duration = time.perf_counter() - sending
        taken = await page.evaluate("n => media.takeRecords(n)", "s2b")
        stats = await page.evaluate("n => media.stats(n)", "s2b")
    finally:
        track.end()
        await pc.close()
        await page.evaluate("media.closeAll()")
    return {"setup": setup, "duration": duration, "stats": stats, **taken}


async def _browser_to_browser(page: Any, kind: str, tf: dict[str, Any], seconds: float) -> dict[str, Any]:
    forward = EncodedTrack(kind)
    first_timestamp: list[int] = []

    def on_frame(data: bytes, timestamp: int) -> None:
        first_timestamp[:] = first_timestamp or [timestamp]
        forward.push(data, (timestamp - first_timestamp[0]) % (1 << 32))

    started = time.perf_counter()
    # The egress exists first, so that no frame arrives with nowhere to go.
    egress = await egress_to_browser(page, "rx", forward, tf)
    ingress = await ingress_from_browser(page, "tx", kind, tf, on_frame)
    relayed = relay_keyframe_requests(ingress, egress)
    setup = time.perf_counter() - started
    try:
        await asyncio.sleep(seconds)
        await page.evaluate("n => media.stopSending(n)", "tx")
        await asyncio.sleep(1.0)
        duration = time.perf_counter() - started - setup
        sent = await page.evaluate("n => media.takeRecords(n)", "tx")
        received = await page.evaluate("n => media.takeRecords(n)", "rx")
        stats = await page.evaluate("n => media.stats(n)", "rx")
    finally:
        forward.end()
        await ingress.close()
        await egress.close()
        await page.evaluate("media.closeAll()")
    return {"setup": setup, "duration": duration, "sent": sent, "received": received, "stats": stats,
            "forwarded": forward.sent, "plis_relayed": relayed[0]}


# ---------------------------------------------------------------------------
# Checks: plain Python, outside the event loop
# ---------------------------------------------------------------------------


def _inbound(stats: list[dict[str, Any]]) -> dict[str, Any]:
    return next((s for s in stats if s["type"] == "inbound-rtp"), {})


def _check_browser_to_sfu(raw: dict[str, Any], impl: str, kind: str, suite: int,
                          decrypters: dict[str, Adapter]) -> dict[str, Any]:
    sent = [r for r in raw["records"] if r["ok"]]
    shas = Counter(r["sha"] for r in sent)
    captured: list[bytes] = raw["captured"]
    identical = {}
    for name, adapter in decrypters.items():
        opened = _decrypt_all(adapter, kind, suite, captured)
        identical[name] = sum((Counter(sha256(p) for p in opened if p is not None) & shas).values())
    problems = []
    if len(captured) < len(sent) - internals.HELD_BACK[kind]:  # the SFU's jitter buffer keeps these in flight
        problems.append(f"{len(sent) - len(captured)} frames lost between the browser and the SFU")
    if len(sent) != len(raw["records"]):
        problems.append(f"{len(raw['records']) - len(sent)} frames failed to encrypt")
    interoperable = lib(impl) == "js"
    for name, n in identical.items():
        if interoperable and n != len(captured):
            problems.append(f"{name} decrypted {n} of {len(captured)} captured frames to what the browser sent")
        if not interoperable and n:
            problems.append(f"{name} decrypted {n} frames of a draft-format sender")
    return {"frames_sent": len(sent), "frames_captured": len(captured), "identical": identical,
            "frames_in_flight_allowed": internals.HELD_BACK[kind],
            "frames_per_second": round(len(captured) / raw["duration"], 1), "interoperable": interoperable,
            "problems": problems}


def _check_sfu_to_browser(raw: dict[str, Any], genuine: list[bytes], tampered: int) -> dict[str, Any]:
    records = raw["records"]
    decrypted = Counter(r["sha"] for r in records if r["ok"])
    rejected = [r for r in records if not r["ok"]]
    expected = Counter(sha256(f) for f in genuine)
    inbound = _inbound(raw["stats"])
    problems = []
    if decrypted != expected:
        problems.append(f"decrypted {sum(decrypted.values())} frames, {sum((decrypted & expected).values())} "
                        f"identical, of {len(genuine)} sent")
    if len(rejected) != tampered or any(r.get("error") != "auth_failed" for r in rejected):
        problems.append(f"{tampered} tampered frames sent, {len(rejected)} rejected: "
                        f"{sorted({str(r.get('error')) for r in rejected})}")
    decoded = inbound.get("framesDecoded")
    if decoded is not None and decoded < len(genuine) - 1:
        problems.append(f"only {decoded} of {len(genuine)} decrypted frames decoded")
    return {"frames_sent": len(genuine), "tampered_sent": tampered, "frames_decrypted": sum(decrypted.values()),
            "tampered_dropped": len(rejected), "frames_decoded": decoded,
            "audio_samples_received": inbound.get("totalSamplesReceived"),
            "frames_per_second": round((len(genuine) + tampered) / raw["duration"], 1), "problems": problems}


def _check_browser_to_browser(raw: dict[str, Any], kind: str) -> dict[str, Any]:
    sent = [r for r in raw["sent"]["records"] if r["ok"]]
    decrypted = [r for r in raw["received"]["records"] if r["ok"]]
    failed = [r for r in raw["received"]["records"] if not r["ok"]]
    identical = sum((Counter(r["sha"] for r in sent) & Counter(r["sha"] for r in decrypted)).values())
    inbound = _inbound(raw["stats"])
    decoded = inbound.get("framesDecoded")
    problems = []
    if identical < len(sent) - internals.HELD_BACK[kind]:  # the SFU's jitter buffer keeps these in flight
        problems.append(f"{len(sent)} sent, {identical} decrypted identical")
    if failed:
        problems.append(f"{len(failed)} frames failed to decrypt: {failed[0].get('message')}")
    if kind == "video" and (decoded is None or decoded < len(decrypted) - 1):
        problems.append(f"{len(decrypted)} decrypted, {decoded} decoded")
    return {"frames_sent": len(sent), "frames_forwarded": raw["forwarded"], "frames_decrypted": len(decrypted),
            "frames_in_flight_allowed": internals.HELD_BACK[kind],
            "frames_identical": identical, "frames_decoded": decoded,
            "audio_samples_received": inbound.get("totalSamplesReceived"),
            "keyframe_requests_relayed": raw["plis_relayed"],
            "frames_per_second": round(len(sent) / raw["duration"], 1), "problems": problems}


def _build_prebuilt(kind: str, suite: int, count: int, encrypter: Adapter) -> tuple[list[bytes], list[bytes], int]:
    """Encrypted frames to send, with a tampered copy of a frame just before each
    video key frame after the first (dropping it then costs the decoder nothing)
    and of every tenth audio frame. Returns (genuine clear frames, wire, tampered)."""
    clear = vp8_frames(count) if kind == "video" else opus_frames(count)
    requests = [Request("encrypt", {"suite": suite, "base_key": BASE_KEY, "kid": KID, "ctr": i,
                                    "metadata": f[: clear_bytes(kind, f)], "plaintext": f[clear_bytes(kind, f):]})
                for i, f in enumerate(clear)]
    wire, tampered = [], 0
    for i, (frame, response) in enumerate(zip(clear, encrypter.run(requests))):
        if not response.ok:
            raise RuntimeError(f"{encrypter.name} cannot encrypt suite {suite}: {response.message}")
        sealed = frame[: clear_bytes(kind, frame)] + response.fields["ciphertext"]
        before_key = kind == "video" and i > 0 and clear_bytes(kind, frame) == 10
        if before_key or (kind == "audio" and i % 10 == 5):
            wire.append(sealed[:-1] + bytes([sealed[-1] ^ 0x01]))  # a flipped tag bit
            tampered += 1
        wire.append(sealed)
    return clear, wire, tampered


def _suites(options: MediaOptions, impl: str, kind: str) -> tuple[int, ...]:
    return options.suites if lib(impl) == "js" else (MEDOOZE_SUITE[kind],)


def scenario_count(options: MediaOptions) -> int:
    # Per suite: browser->sfu and browser->sfu->browser, and sfu->browser for the js library only.
    return sum(len(_suites(options, impl, kind)) * (3 if lib(impl) == "js" else 2)
               for impl in options.impls for kind in options.kinds)


def run_media(options: MediaOptions, open_adapter: Callable[[str], Adapter],
              log: Callable[[str], None] = lambda line: None, on_progress: OnProgress | None = None) -> dict[str, Any]:
    """Every scenario in one browser session; the JSON-able result."""
    started = time.perf_counter()
    total = scenario_count(options)
    session = BrowserSession()
    adapters: dict[str, Adapter] = {}
    scenarios: list[dict[str, Any]] = []
    try:
        adapters = {name: open_adapter(name) for name in dict.fromkeys((*options.decrypters, options.encrypter))}
        decrypters = {name: adapters[name] for name in options.decrypters}
        page = session.page

        def scenario(label: str, impl: str, kind: str, suite: int, run: Callable[[], Any],
                     check: Callable[[Any], dict[str, Any]]) -> None:
            entry: dict[str, Any] = {"scenario": label, "impl": impl, "kind": kind, "suite": suite}
            try:
                raw = session.run(_patched(run), options.scenario_timeout)
                entry["setup_seconds"] = round(raw["setup"], 3)
                entry.update(check(raw))
                if raw.get("workerErrors"):
                    entry["problems"].append(f"worker errors: {raw['workerErrors'][:2]}")
            except Exception as e:  # one scenario's failure is reported, the others still run
                entry["problems"] = [f"{type(e).__name__}: {e}".splitlines()[0]]
            entry["ok"] = not entry["problems"]
            scenarios.append(entry)
            log(_summary(entry))
            if on_progress is not None:
                on_progress(len(scenarios), total, sum(not s["ok"] for s in scenarios))

        for impl in options.impls:
            for kind in options.kinds:
                for suite in _suites(options, impl, kind):
                    tf = transform(impl, suite)
                    scenario("browser->sfu", impl, kind, suite,
                             lambda: _browser_to_sfu(page, kind, tf, options.seconds),
                             lambda raw: _check_browser_to_sfu(raw, impl, kind, suite, decrypters))
                    if lib(impl) == "js":  # the harness cannot build draft-format frames with clear VP8 headers
                        genuine, wire, tampered = _build_prebuilt(kind, suite, options.prebuilt_frames,
                                                                  adapters[options.encrypter])
                        scenario("sfu->browser", impl, kind, suite,
                                 lambda: _sfu_to_browser(page, kind, tf, wire),
                                 lambda raw: {"encrypted_by": options.encrypter,
                                              **_check_sfu_to_browser(raw, genuine, tampered)})
                    scenario("browser->sfu->browser", impl, kind, suite,
                             lambda: _browser_to_browser(page, kind, tf, options.seconds),
                             lambda raw: _check_browser_to_browser(raw, kind))
    finally:
        for adapter in adapters.values():
            adapter.close()
        session.close()
    return {
        "browser": session.probe.as_dict(),
        "native_sframe": session.probe.native_line,
        "options": {"impls": list(options.impls), "suites": list(options.suites), "kinds": list(options.kinds),
                    "seconds": options.seconds, "decrypters": list(options.decrypters),
                    "encrypter": options.encrypter},
        "total_seconds": round(time.perf_counter() - started, 1),
        "scenarios": scenarios,
        "interop": _interop_matrix(scenarios),
        "ok": bool(scenarios) and all(s["ok"] for s in scenarios),
    }


async def _patched(run: Callable[[], Any]) -> Any:
    # Process-wide aiortc/aioice hooks, held only while a scenario runs.
    with internals.loopback_ice(), internals.no_decoding():
        return await run()


def _interop_matrix(scenarios: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """sender -> receiver -> "identical/sent" over all browser-sent frames."""
    matrix: dict[str, dict[str, list[int]]] = {}
    for s in scenarios:
        if s["scenario"] == "browser->sfu" and "identical" in s:
            for receiver, n in s["identical"].items():
                cell = matrix.setdefault(s["impl"], {}).setdefault(receiver, [0, 0])
                cell[0] += n
                cell[1] += s["frames_captured"]
        if s["scenario"] == "browser->sfu->browser" and "frames_identical" in s:
            cell = matrix.setdefault(s["impl"], {}).setdefault(s["impl"], [0, 0])
            cell[0] += s["frames_identical"]
            cell[1] += s["frames_sent"]
    return {sender: {receiver: f"{n}/{total}" for receiver, (n, total) in row.items()} for sender, row in matrix.items()}


def _summary(entry: dict[str, Any]) -> str:
    counts = ", ".join(f"{k.removeprefix('frames_')} {v}" for k, v in entry.items()
                       if k.startswith(("frames_", "tampered_")) and k not in ("frames_per_second", "frames_in_flight_allowed")
                       and v is not None)
    if "identical" in entry:
        counts += ", identical " + " ".join(f"{k}:{v}" for k, v in entry["identical"].items())
    status = "ok" if entry["ok"] else "FAIL: " + "; ".join(entry["problems"])
    return (f"  {entry['scenario']:<22} {entry['impl']:<16} {entry['kind']:<5} suite {entry['suite']}  "
            f"setup {entry.get('setup_seconds', '?')}s  {entry.get('frames_per_second', '?')} frames/s  {counts}  {status}")


def write(result: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")

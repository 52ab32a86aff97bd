"""The SFU side of the media mode: aiortc peers that capture, forward and send
encoded frames without ever holding a key."""

from __future__ import annotations

import asyncio
import fractions
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import av
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from . import _aiortc_internals as internals

CLOCK_RATE = {"video": 90_000, "audio": 48_000}
MIME = {"video": "video/VP8", "audio": "audio/opus"}


def new_peer() -> RTCPeerConnection:
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))  # no STUN: loopback only, offline


def prefer_codec(transceiver: Any, kind: str) -> None:
    codecs = RTCRtpSender.getCapabilities(kind).codecs
    transceiver.setCodecPreferences([c for c in codecs if c.mimeType == MIME[kind]]
                                    + [c for c in codecs if c.mimeType.endswith("/rtx")])


async def wait_connected(pc: RTCPeerConnection, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while pc.connectionState != "connected":
        if pc.connectionState in ("failed", "closed") or time.monotonic() > deadline:
            raise ConnectionError(f"peer connection {pc.connectionState} (ICE {pc.iceConnectionState})")
        await asyncio.sleep(0.01)


@dataclass
class Captured:
    """Encoded frames one SFU ingress received, in arrival order."""

    frames: list[tuple[bytes, int]] = field(default_factory=list)  # (frame, RTP timestamp)
    first_at: float | None = None

    def add(self, data: bytes, timestamp: int) -> None:
        if self.first_at is None:
            self.first_at = time.perf_counter()
        self.frames.append((data, timestamp))


class EncodedTrack(MediaStreamTrack):
    """Sends frames that are already encoded (and encrypted): recv() returns an
    av.Packet, which aiortc packetizes as is (VP8: adds the payload descriptor)."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.sent = 0
        self._queue: asyncio.Queue[tuple[bytes, int] | None] = asyncio.Queue()
        self._time_base = fractions.Fraction(1, CLOCK_RATE[kind])

    def push(self, data: bytes, pts: int) -> None:
        self._queue.put_nowait((data, pts))

    def end(self) -> None:
        self._queue.put_nowait(None)

    async def recv(self) -> av.Packet:  # type: ignore[type-arg]  # av's Packet is generic only in its stubs
        item = await self._queue.get()
        if item is None:
            self.stop()
            raise MediaStreamError
        data, pts = item
        packet = av.Packet(data)
        packet.pts = pts
        packet.time_base = self._time_base
        self.sent += 1
        return packet


async def ingress_from_browser(page: Any, name: str, kind: str, transform: dict[str, Any] | None,
                               on_frame: Callable[[bytes, int], None]) -> RTCPeerConnection:
    """The page sends its fake camera or microphone to a new SFU peer; ``on_frame`` sees every frame."""
    offer = await page.evaluate("([n, c]) => media.startSender(n, c)",
                                [name, {"kind": kind, "mime": MIME[kind], "transform": transform}])
    pc = new_peer()
    await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
    internals.tap_encoded_frames(pc.getTransceivers()[0].receiver, on_frame)
    await pc.setLocalDescription(await pc.createAnswer())
    await page.evaluate("([n, s]) => media.setAnswer(n, s)", [name, pc.localDescription.sdp])
    await wait_connected(pc)
    return pc


async def egress_to_browser(page: Any, name: str, track: EncodedTrack,
                            transform: dict[str, Any] | None) -> RTCPeerConnection:
    """A new SFU peer sends ``track`` to a page receiver (which decrypts with ``transform``)."""
    pc = new_peer()
    prefer_codec(pc.addTransceiver(track, direction="sendonly"), track.kind)
    await pc.setLocalDescription(await pc.createOffer())
    answer = await page.evaluate("([n, c, s]) => media.startReceiver(n, c, s)",
                                 [name, {"transform": transform}, pc.localDescription.sdp])
    await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    await wait_connected(pc)
    if transform is not None and not await page.evaluate("n => media.ready(n)", name):
        raise RuntimeError(f"{name}: the page's receive transform never started")
    return pc


def relay_keyframe_requests(ingress: RTCPeerConnection, egress: RTCPeerConnection) -> list[int]:
    """Forward the downstream receiver's PLIs to the upstream sender; returns a counter list."""
    relayed = [0]
    receiver = ingress.getTransceivers()[0].receiver

    def relay() -> None:
        relayed[0] += 1
        asyncio.ensure_future(internals.request_keyframe(receiver))

    internals.on_keyframe_request(egress.getTransceivers()[0].sender, relay)
    return relayed

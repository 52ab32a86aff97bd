"""Every reach into aiortc and aioice internals, in one module.

aiortc (pinned exactly in pyproject.toml) has no public API for what an
SFrame-blind SFU needs, so these few hooks live here and nowhere else:

- ICE on loopback: aioice never offers 127.0.0.1 as a host candidate, and the
  harness must stay on loopback (offline, no other interface involved).
- The capture point: the reassembled encoded frame, VP8 payload descriptor
  already stripped, is only visible at the receiver's jitter-buffer output.
- No decoding: the SFU receives ciphertext; a real decoder would fail on every
  frame and answer each failure with a keyframe request (PLI).
- Keyframe requests for forwarded frames: aiortc handles a PLI by asking its
  own encoder for a keyframe, which a track of pre-encoded packets does not
  have, so the SFU relays the request to the upstream sender instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import aioice.ice
import aiortc.rtcrtpreceiver as _receiver_module
from aiortc import RTCRtpReceiver, RTCRtpSender
from aiortc.codecs.base import Decoder


@contextlib.contextmanager
def loopback_ice() -> Iterator[None]:
    saved = aioice.ice.get_host_addresses
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
    try:
        yield
    finally:
        aioice.ice.get_host_addresses = saved


class _NullDecoder(Decoder):
    def decode(self, encoded_frame: Any) -> list[Any]:
        return []


@contextlib.contextmanager
def no_decoding() -> Iterator[None]:
    # get_decoder is the receiver module's own import of aiortc.codecs.get_decoder: not exported, patched on purpose.
    saved = getattr(_receiver_module, "get_decoder")
    setattr(_receiver_module, "get_decoder", lambda codec: _NullDecoder())
    try:
        yield
    finally:
        setattr(_receiver_module, "get_decoder", saved)


# How many frames at the end of a stream the receiver's jitter buffer never
# releases: a video frame is released when the next one starts (so the last
# stays), and the audio buffer is built with prefetch=4 (RTCRtpReceiver
# __init__), so it holds the last four.
HELD_BACK = {"video": 1, "audio": 4}


def tap_encoded_frames(receiver: RTCRtpReceiver, callback: Callable[[bytes, int], None]) -> None:
    """Call ``callback(frame, rtp_timestamp)`` for every frame the jitter buffer releases.

    The last HELD_BACK[kind] frames of a stream are never seen (they stay in flight)."""
    jitter_buffer = receiver._RTCRtpReceiver__jitter_buffer  # type: ignore[attr-defined]
    add = jitter_buffer.add

    def tapped(packet: Any) -> Any:
        pli, frame = add(packet)
        if frame is not None:
            callback(frame.data, frame.timestamp)
        return pli, frame

    jitter_buffer.add = tapped


def on_keyframe_request(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """Replace what ``sender`` does on an incoming PLI or FIR."""
    sender._send_keyframe = callback  # type: ignore[method-assign]


async def request_keyframe(receiver: RTCRtpReceiver) -> int:
    """Send a PLI upstream for every source ``receiver`` hears; returns how many."""
    sources = [s.source for s in receiver.getSynchronizationSources()]
    for ssrc in sources:
        await receiver._send_rtcp_pli(ssrc)
    return len(sources)

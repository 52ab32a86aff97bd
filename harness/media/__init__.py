"""Media mode: an SFrame-blind SFU on loopback (aiortc), and the scenarios that
push real WebRTC frames between headless Chromium, the SFU and the harness.

Rule: aiortc internals are reached only through ``_aiortc_internals`` (aiortc is
pinned exactly for it); this package opens adapters through the registry.
"""

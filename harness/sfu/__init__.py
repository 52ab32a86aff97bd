"""An SFrame-blind SFU on loopback (aiortc), and the media-mode scenarios that
push real WebRTC frames between headless Chromium, the SFU and the harness."""

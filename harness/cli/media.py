"""``python -m harness media``: the media-mode scenarios (harness/media/scenarios.py).

aiortc and PyAV load only when the command runs, so importing the CLI stays cheap."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..adapters.browser import unavailable_reason
from ..adapters.registry import media_impls
from .common import EXIT_FAIL, EXIT_OK, count, seconds
from .progress import Progress, add_quiet

EXIT_UNAVAILABLE = 2


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    media = sub.add_parser("media", help="SFrame over real WebRTC: headless Chromium <-> aiortc SFU on loopback")
    media.add_argument("--impl", action="append", choices=media_impls(),
                       help="browser implementation (repeatable; default both)")
    media.add_argument("--suite", type=int, action="append", metavar="N",
                       help="cipher suite for browser-js (repeatable; default 4 and 1)")
    media.add_argument("--kind", action="append", choices=("video", "audio"), help="default both")
    media.add_argument("--seconds", type=seconds, default=3.0, metavar="S", help="live media per scenario (default 3)")
    media.add_argument("--frames", type=count, default=60, metavar="N", help="pre-built frames per sfu->browser scenario")
    media.add_argument("--json", type=Path, metavar="PATH", help="write the results (a JSON object) here")
    add_quiet(media)
    media.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    reason = unavailable_reason()
    if reason is not None:
        print(f"harness: media: {reason}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    from ..adapters.registry import open_adapter
    from ..media.scenarios import MediaOptions, run_media, scenario_count, write

    defaults = MediaOptions()
    options = MediaOptions(
        impls=tuple(args.impl or defaults.impls),
        suites=tuple(args.suite or defaults.suites),
        kinds=tuple(args.kind or defaults.kinds),
        seconds=args.seconds,
        prebuilt_frames=args.frames,
    )
    with Progress("media", scenario_count(options), unit="scenarios", findings=True,
                  enabled=not args.quiet) as progress:
        result = run_media(options, open_adapter, log=print, on_progress=progress.update)
    b = result["browser"]
    print(f"{b['browser']} launched in {b['launch_seconds']}s; {result['native_sframe']}")
    print("interop (frames decrypted identical / frames):", json.dumps(result["interop"]))
    print(f"media: {sum(s['ok'] for s in result['scenarios'])}/{len(result['scenarios'])} scenarios ok "
          f"in {result['total_seconds']}s")
    if args.json:
        write(result, args.json)
    return EXIT_OK if result["ok"] else EXIT_FAIL

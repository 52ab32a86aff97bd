"""The progress callback that long-running functions take (``on_progress``).

Rule: a long-running function (a catalogue run, the matrix, a fuzzing or
benchmark campaign, the media scenarios) reports progress only through this
callback and never prints a progress line itself; the CLI passes
``harness.cli.progress.Progress.update``, which draws it on a terminal, prints
plain lines on a pipe, or nothing with ``-q``.

``on_progress(done, total, findings)``: units done so far, the total when it is
known in advance (None for a campaign bounded by time), findings so far.
"""

from __future__ import annotations

from collections.abc import Callable

OnProgress = Callable[[int, "int | None", int], None]

"""Reporters, registered in one place: each writes one output format of a run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..runner import RunResult
from .json_report import write_json
from .junit import write_junit

REPORTERS: dict[str, Callable[[list[RunResult], Path], None]] = {
    "json": write_json,
    "junit": write_junit,
}

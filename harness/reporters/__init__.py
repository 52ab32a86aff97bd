"""Reporters, registered in one place: each renders the results document to one file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..engine.results import Results
from .html import write_html
from .json_report import write_json
from .junit import write_junit

REPORTERS: dict[str, Callable[[Results, Path], None]] = {
    "json": write_json,
    "junit": write_junit,
    "html": write_html,
}
# File names used inside a report directory (--out DIR/<timestamp>/).
REPORT_FILES = {"json": "results.json", "junit": "junit.xml", "html": "index.html"}

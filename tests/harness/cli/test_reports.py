"""Reports are written atomically: a fresh directory per run, temporary names renamed, ``latest`` last."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from harness.adapters.inprocess import PythonAdapter
from harness.catalogue import all_cases, select
from harness.cli.common import UsageError, finish, point_latest, report_dir, write_atomically
from harness.engine.results import document
from harness.engine.runner import run


def _args(out: Path, **kw: object) -> argparse.Namespace:
    return argparse.Namespace(out=out, json=None, junit=None, html=None, fail_on="must", expectations=None,
                              update_expectations=False, fail_untested=False, **kw)


@pytest.fixture(scope="module")
def doc():
    with PythonAdapter() as adapter:
        return document([run(adapter, select(all_cases(), only=["rfc9605/sframe/suite-4/*"]))])


def test_runs_in_the_same_second_get_directories_of_their_own(tmp_path: Path) -> None:
    dirs = {report_dir(tmp_path) for _ in range(6)}
    assert len(dirs) == 6 and all(d.is_dir() and d.parent == tmp_path for d in dirs)
    assert len({d.name[:16] for d in dirs}) == 1  # one timestamp, six names


def test_latest_is_switched_last_and_in_one_rename(tmp_path: Path, doc, monkeypatch: pytest.MonkeyPatch) -> None:
    assert finish(doc, _args(tmp_path)) == 0
    first = os.readlink(tmp_path / "latest")
    assert {p.name for p in (tmp_path / "latest").iterdir()} == {"results.json", "junit.xml", "index.html"}

    # Ctrl-C while the second report is half written: the first stays the latest, nothing else is left.
    from harness import reporters

    def interrupted(doc: object, path: Path) -> None:
        path.write_text("<testsuites")  # half a file
        raise KeyboardInterrupt

    monkeypatch.setitem(reporters.REPORTERS, "junit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        finish(doc, _args(tmp_path))
    assert os.readlink(tmp_path / "latest") == first
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([first, "latest"])


def test_latest_that_is_a_directory_is_a_usage_error(tmp_path: Path, doc) -> None:
    (tmp_path / "latest" / "x").mkdir(parents=True)
    with pytest.raises(UsageError, match="cannot write .*latest"):
        finish(doc, _args(tmp_path))
    assert [p.name for p in tmp_path.iterdir()] == ["latest"]  # the new report was not left behind


def test_write_atomically_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    target.write_text("old")

    def failing(path: Path) -> None:
        path.write_text("partial")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_atomically(target, failing)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["results.json"]
    write_atomically(target, lambda p: p.write_text("new"))
    assert target.read_text() == "new" and oct(target.stat().st_mode & 0o777) == "0o644"


def test_a_device_is_written_in_place_not_replaced(tmp_path: Path) -> None:
    write_atomically(Path("/dev/null"), lambda p: p.write_text("x"))
    assert Path("/dev/null").is_char_device()


def test_point_latest_replaces_an_old_link(tmp_path: Path) -> None:
    a, b = report_dir(tmp_path), report_dir(tmp_path)
    point_latest(tmp_path, a)
    point_latest(tmp_path, b)
    assert os.readlink(tmp_path / "latest") == b.name

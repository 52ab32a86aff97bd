"""harness/cli/progress.py: a live rich line on a terminal, a plain line at most
every 10 s on a pipe or in CI, nothing with -q."""

from __future__ import annotations

import io

import pytest

from harness.cli import progress as progress_module
from harness.cli.progress import Progress


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(progress_module.time, "monotonic", clock)
    monkeypatch.delenv("CI", raising=False)
    return clock


def _run(p: Progress, clock: Clock, seconds: int, total: int | None = None) -> None:
    for second in range(1, seconds + 1):
        clock.now += 1
        p.update(second * 10, total, second // 10)


def test_pipe_gets_a_plain_line_every_10_seconds(clock):
    out = io.StringIO()
    with Progress("c", 300, stream=out, findings=True) as p:
        _run(p, clock, 25)
    lines = out.getvalue().splitlines()
    assert lines == ["c: 100/300 cases, 10/s, elapsed 0:10, ETA 0:20, 1 findings",
                     "c: 200/300 cases, 10/s, elapsed 0:20, ETA 0:10, 2 findings"]


def test_a_short_run_and_quiet_print_nothing(clock):
    out = io.StringIO()
    with Progress("c", 300, stream=out) as p:
        _run(p, clock, 9)
    with Progress("c", 300, stream=out, enabled=False) as p:
        _run(p, clock, 60)
    with Progress("c", 300, stream=Terminal(), enabled=False) as p:
        _run(p, clock, 60)
    assert out.getvalue() == ""


def test_ci_gets_plain_lines_even_on_a_terminal(clock, monkeypatch):
    monkeypatch.setenv("CI", "true")
    out = Terminal()
    with Progress("difffuzz", budget=60, unit="cases", stream=out) as p:
        _run(p, clock, 10)
    assert out.getvalue() == "difffuzz: 100 cases, 10/s, elapsed 0:10, ETA 0:50\n"


def test_terminal_gets_a_live_line_that_disappears(clock):
    out = Terminal()
    label = "cmd:./shim [bold]x[/bold]"  # shown as it is, never read as markup
    with Progress(label, 300, stream=out) as p:
        _run(p, clock, 3)
        assert p._rich is not None
        p._rich.refresh()
        drawn = out.getvalue()
    assert "\x1b[" in drawn and "cmd:./shim [bold]x[/bold]: 30/300 cases" in drawn
    assert p._rich is None  # stopped by the with block


def test_eta_is_the_sooner_of_total_and_budget(clock):
    p = Progress("fuzz", 1000, budget=30, stream=io.StringIO())
    clock.now += 10
    p.update(100)
    assert p.line().endswith("ETA 0:20")  # the budget (20 s left) ends it before the total (90 s)


# The long-running functions' on_progress hooks, as the CLI's Progress.update receives them.


def test_matrix_reports_cells_done_of_the_total():
    from harness.adapters.inprocess import PythonAdapter
    from harness.engine.matrix import run_matrix

    ticks: list[tuple[int, int | None, int]] = []
    matrix = run_matrix([PythonAdapter(), PythonAdapter()], (1, 4), on_progress=lambda *t: ticks.append(t))
    n = len(matrix.cells)
    assert n == 8 and sorted(ticks) == [(i, n, 0) for i in range(1, n + 1)]


def test_difffuzz_reports_cases_and_findings(tmp_path):
    from harness.adapters.inprocess import PythonAdapter
    from harness.fuzz import difffuzz

    ticks: list[tuple[int, int | None, int]] = []
    config = difffuzz.Config(max_time=30, max_cases=512, batch=128, out=tmp_path)
    report = difffuzz.campaign([PythonAdapter(), PythonAdapter()], config, on_progress=lambda *t: ticks.append(t))
    assert ticks == [(128 * i, 512, 0) for i in range(1, 5)] and report.cases == 512

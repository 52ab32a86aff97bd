"""The matrix as an image (SVG and PNG, via matplotlib) for embedding in a PR or README."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..engine.matrix import FRAMES, Matrix
from ..model.grading import Grade
from ..model.text import for_terminal

COLOURS: dict[Grade | None, str] = {Grade.PASS: "#2e9e44", Grade.NON_STRICT: "#e8b23a", Grade.FAIL: "#d73a3a",
                                    Grade.ERROR: "#7b2a8c", Grade.UNSUPPORTED: "#bbbbbb", None: "#ffffff"}


def write_matrix_images(matrix: Matrix, directory: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")  # no display on CI machines
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgb
    from matplotlib.patches import Patch

    impls, suites = matrix.implementations, matrix.suites
    status = {(c.suite, c.encryptor, c.decryptor): c.grade for c in matrix.cells if c.kind == FRAMES}
    n = len(impls)
    cols = min(4, len(suites))
    rows = -(-len(suites) // cols)
    side = max(3.0, 1.2 + 0.55 * n)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * side, rows * side), squeeze=False)
    # Names are untrusted (a merged file's): controls escaped, and "$" too, which matplotlib reads as maths.
    safe = [for_terminal(name).replace("$", r"\$") for name in impls]
    labels = [name if len(name) <= 18 else name[:16] + "..." for name in safe]  # a program's own name can be long
    for ax, suite in zip(axes.flat, suites):
        grid = [[to_rgb(COLOURS[status.get((suite, e, d))]) for d in impls] for e in impls]
        ax.imshow(grid)
        ax.set_title(f"suite {suite}", fontsize=10)
        ax.set_xticks(range(n), labels, rotation=90, fontsize=7)
        ax.set_yticks(range(n), labels, fontsize=7)
        ax.set_xticks([x - 0.5 for x in range(1, n)], minor=True)
        ax.set_yticks([y - 0.5 for y in range(1, n)], minor=True)
        ax.grid(which="minor", color="white", linewidth=1.5)
        ax.tick_params(which="minor", length=0)
    for ax in list(axes.flat)[len(suites):]:
        ax.axis("off")
    fig.legend(handles=[Patch(color=COLOURS[k], label=k.value if k else "not both supported") for k in COLOURS],
               loc="lower center", ncol=6, fontsize=8)
    fig.suptitle("SFrame interop matrix (rows encrypt, columns decrypt)", fontsize=11)
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / "matrix.svg", directory / "matrix.png"]
    for path in paths:
        fig.savefig(path, dpi=110)
    plt.close(fig)
    return paths


def write_bench_images(report: dict[str, Any], directory: Path) -> dict[str, str]:
    """Encrypt throughput against each implementation's own raw AEAD, and overhead per scenario; returns
    SVG text to inline in HTML."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = {}
    rows = [r for r in report["rows"] if r["mode"] == "encrypt" and r.get("ratio_to_limit") is not None]
    if rows:
        fig, ax = plt.subplots(figsize=(9, 4))
        labels = sorted({(r["implementation"], r["suite"]) for r in rows})
        frames = list(report["sizes"])
        width = 0.8 / max(1, len(labels))
        for i, (impl, suite) in enumerate(labels):
            ratios = [next((r["ratio_to_limit"] for r in rows if (r["implementation"], r["suite"], r["frame"]) ==
                            (impl, suite, f)), 0) for f in frames]
            ax.bar([x + i * width for x in range(len(frames))], ratios, width, label=f"{impl} s{suite}")
        ax.set_xticks([x + 0.4 - width / 2 for x in range(len(frames))], frames)
        ax.set_ylabel("encrypt frames/s / own raw AEAD")
        ax.set_title("Encrypt throughput inside each implementation, relative to its own raw AEAD, same run")
        ax.legend(fontsize=6, ncol=4)
        figures["Throughput against raw AEAD"] = (fig, "bench")
    over = report["overhead"]["rows"]
    if over:
        fig, ax = plt.subplots(figsize=(9, 4.5))
        scenarios = list(dict.fromkeys(r["scenario"] for r in over))
        schemes = list(dict.fromkeys(r["scheme"] for r in over))
        width = 0.8 / len(schemes)
        for i, scheme in enumerate(schemes):
            values = [next((r["overhead_percent"] for r in over if r["scenario"] == sc and r["scheme"] == scheme), 0)
                      for sc in scenarios]
            ax.bar([x + i * width for x in range(len(scenarios))], values, width, label=scheme)
        ax.set_xticks([x + 0.4 - width / 2 for x in range(len(scenarios))], scenarios, rotation=25, ha="right",
                      fontsize=7)
        ax.set_ylabel("overhead, % of media bitrate")
        ax.set_title("Security overhead: SFrame (+SRTP) against SRTP alone and PERC (RFC 9605 Appendix B)")
        ax.legend(fontsize=6)
        figures["Overhead against SRTP and PERC"] = (fig, "overhead")
    directory.mkdir(parents=True, exist_ok=True)
    svgs = {}
    for title, (fig, stem) in figures.items():
        fig.tight_layout()
        fig.savefig(directory / f"{stem}.png", dpi=100)
        buf = io.StringIO()
        fig.savefig(buf, format="svg")
        (directory / f"{stem}.svg").write_text(buf.getvalue())
        svgs[title] = buf.getvalue()[buf.getvalue().index("<svg"):]
        plt.close(fig)
    return svgs

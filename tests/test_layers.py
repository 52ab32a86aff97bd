"""The import direction of harness/'s rooms (harness/__init__.py): every import is read
with ``ast``, so a module that imports against the flow fails here with its line."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "harness"
RANK = {"locations": 0, "model": 0, "catalogue": 1, "adapters": 1, "engine": 2, "fuzz": 3, "bench": 3, "media": 3,
        "reporters": 4, "cli": 5}
# Rooms that may import each other despite the same rank: none.
PEERS: set[tuple[str, str]] = set()


def _room(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "harness" else None


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) for every harness import in ``path``, relative ones resolved."""
    rel = path.relative_to(ROOT).with_suffix("")
    package = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
                names = [module] if node.module else [f"{module}.{a.name}" for a in node.names]
            else:
                names = [node.module or ""]
            out += [(node.lineno, n) for n in names]
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
    return [(line, m) for line, m in out if m.startswith("harness")]


def test_every_module_belongs_to_a_room() -> None:
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        room = rel.parts[0].removesuffix(".py")
        assert room in RANK or room in ("__init__", "__main__"), f"{rel} is in no room of harness/__init__.py"


def test_imports_flow_one_way() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        own = _room("harness." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts))
        if own not in RANK:
            continue  # harness/__init__.py and __main__.py sit above the rooms
        for line, module in _imports(path):
            target = _room(module)
            if target is None or target == own or target not in RANK:
                continue
            if RANK[target] > RANK[own] or (RANK[target] == RANK[own] and (own, target) not in PEERS):
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {own} (rank {RANK[own]}) imports {module}")
    assert not wrong, "imports against the flow:\n" + "\n".join(wrong)


def test_the_reference_does_not_import_the_harness() -> None:
    for path in (ROOT / "implementations" / "python" / "sframe_py").rglob("*.py"):
        assert not _imports(path), path

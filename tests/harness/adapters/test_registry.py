"""The registry is the one list of implementations: the CI workflow, the
browser adapter, the media scenarios and the CLI read it, and nothing else in
the package names an implementation."""

from __future__ import annotations

import ast
import re

import pytest

from harness.adapters import registry
from harness.adapters.base import AdapterError
from harness.adapters.registry import REGISTRY, expand, is_browser, media_impls, open_adapter
from tests.conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "conformance.yml"


def test_the_ci_workflow_has_one_job_per_registered_implementation():
    lists = re.findall(r"^\s+impl: \[(.*)\]\s*$", WORKFLOW.read_text(), re.MULTILINE)
    assert len(lists) == 1, "conformance.yml: one `impl: [...]` matrix list"
    in_workflow = [name.strip() for name in lists[0].split(",")]
    assert in_workflow == [name for name, impl in REGISTRY.items() if impl.ci_job]


def test_records_carry_what_their_users_need():
    for name, impl in REGISTRY.items():
        assert (impl.kind == "browser") == (impl.browser is not None) == is_browser(name), name
        assert impl.browser is None or impl.browser.name == name
        assert impl.media_lib is None or impl.kind == "browser", name
        assert impl.ci_job <= impl.bundled, name  # CI runs what `--impl all` runs
        assert impl.language in ("python", "c", "javascript", "rust"), name
        assert impl.coverage_build is None or REGISTRY[impl.coverage_build].language == impl.language, name
    assert media_impls() == ("browser-js", "browser-medooze")
    assert [n for n, i in REGISTRY.items() if not i.needs_checkout] == ["python", "python-subprocess"]


def _second_lists(tree: ast.AST) -> list[tuple[int, str]]:
    """Tables keyed by implementation names (two or more keys), and name-prefix tests such as
    ``spec.startswith("browser")``: what the registry's fields are for."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            keys = [k.value for k in node.keys if isinstance(k, ast.Constant) and k.value in REGISTRY]
            if len(keys) >= 2:
                found.append((node.lineno, f"a table keyed by {keys}"))
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "startswith"
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
                and sum(name.startswith(node.args[0].value) for name in REGISTRY) >= 2):
            found.append((node.lineno, f"startswith({node.args[0].value!r})"))
    return found


def test_no_other_module_lists_implementations():
    found = [f"{path.relative_to(ROOT)}:{line}: {what}"
             for path in sorted((ROOT / "harness").rglob("*.py")) if path.name != "registry.py"
             for line, what in _second_lists(ast.parse(path.read_text()))]
    assert not found, found
    # The check itself: the tables and the prefix test this registry replaced are caught.
    assert len(_second_lists(ast.parse('LIB = {"browser-js": "js", "browser-medooze": "medooze"}\n'
                                       'x = [s for s in specs if not s.startswith("browser")]'))) == 2


def test_outside_a_checkout_only_python_is_available(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(registry, "in_checkout", lambda: False)
    specs, notes = expand(["all"])
    assert specs == ["python"]
    assert len(notes) == 1 and "only available in a checkout" in notes[0] and "browser-js" in notes[0]
    with pytest.raises(AdapterError, match=r"^c is only available in a checkout"):
        open_adapter("c")
    with open_adapter("python") as adapter:
        assert adapter.hello.name

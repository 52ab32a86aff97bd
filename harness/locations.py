"""Where things are on disk: the one module that knows the checkout's layout.

Rules:

- No other module builds a path from ``__file__``.
- Data the harness reads at run time (the vectors, the ``*.md`` specs) is
  package data, found through ``importlib.resources``: an installed wheel and
  a checkout look the same to callers. In a checkout ``harness/vectors`` is a
  symlink to the top-level ``vectors/``, where the data and its provenance
  live; the wheel carries the files themselves.
- The checkout-only places (``implementations/``, ``fuzz/``) exist only when
  ``in_checkout()``; what is written (findings, expectations) goes under the
  current directory when the harness runs from an installed wheel.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def _package_dir() -> Path:
    root = resources.files(__package__ or "harness")
    if not isinstance(root, Path):  # a zipped install: the vectors must be real files for the loaders
        raise ImportError("sframe-conformance must be installed unzipped (pip install sframe-conformance)")
    return root


PACKAGE = _package_dir()
ROOT = PACKAGE.parent  # the checkout, when running from one; site-packages when installed

VECTORS = PACKAGE / "vectors"
GENERATED_VECTORS = VECTORS / "generated"
RFC_VECTORS = VECTORS / "rfc9605"
MLS_VECTORS = VECTORS / "mls"

IMPLEMENTATIONS = ROOT / "implementations"
FUZZ = ROOT / "fuzz"


def in_checkout() -> bool:
    """True when the harness runs from a source checkout (the bundled implementations are there)."""
    return IMPLEMENTATIONS.is_dir() and (ROOT / "pyproject.toml").is_file()


CHECKOUT_ONLY = (
    "is only available in a checkout of sframe-conformance (it runs code from implementations/); "
    "from an installed wheel use python, python-subprocess or cmd:COMMAND"
)

# Written by the harness: inside the checkout, or under the current directory from a wheel.
FINDINGS = FUZZ / "findings" if in_checkout() else Path.cwd() / "sframe-findings"
EXPECTATIONS = ROOT / "expectations" if in_checkout() else Path.cwd() / "expectations"

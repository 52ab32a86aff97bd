"""Where things are on disk: the one module that knows the checkout's layout.

Rule: no other module builds a path from ``__file__``. Data the package ships
(vectors) is found through ``importlib.resources``-compatible paths here, so
an installed wheel and a checkout look the same to callers; the checkout-only
places (``implementations/``, ``fuzz/``, ``expectations/``) are ``None``-safe
to test for with ``in_checkout()``.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent  # the checkout, when running from one

VECTORS = ROOT / "vectors"
GENERATED_VECTORS = VECTORS / "generated"
RFC_VECTORS = VECTORS / "rfc9605"
MLS_VECTORS = VECTORS / "mls"

IMPLEMENTATIONS = ROOT / "implementations"
FUZZ = ROOT / "fuzz"
FINDINGS = FUZZ / "findings"
EXPECTATIONS = ROOT / "expectations"


def in_checkout() -> bool:
    """True when the harness runs from a source checkout (the bundled implementations are there)."""
    return IMPLEMENTATIONS.is_dir()

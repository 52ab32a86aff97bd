"""The catalogue: every conformance case, as data.

Rule: cases are built from the vector files in ``vectors/`` (official RFC
vectors and the project's generated ones); ``generate/`` writes the generated
files and is the only code that computes expected values. This package imports
only ``harness.model``: it never runs an implementation itself (the generator
is handed a reference to record with).
"""

from .loader import all_cases, official_cases, select, wycheproof_cases

__all__ = ["all_cases", "official_cases", "select", "wycheproof_cases"]

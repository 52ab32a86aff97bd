"""The catalogue: every conformance case, as data.

Rule: cases are built from the vector files in ``vectors/`` (official RFC
vectors and the project's generated ones); ``generate/`` writes the generated
files and is the only code that computes expected values; ``inputs`` holds the
vectors' standard base_key, metadata and plaintext, once. This package imports
only ``harness.model`` and ``harness.locations`` (and the reference,
``sframe_py``): it never runs an adapter itself (the generator is handed a
reference to record with).
"""

from .loader import all_cases, flag_notes, official_cases, select, wycheproof_cases

__all__ = ["all_cases", "flag_notes", "official_cases", "select", "wycheproof_cases"]

"""The engine: runs cases and the interop matrix through adapters, grades them,
applies the expectations gate, and builds the results document.

Rule: the engine talks to implementations only through ``harness.adapters`` and
renders nothing; reporters turn its results document into files.
"""

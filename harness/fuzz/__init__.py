"""Fuzzing: differential (``difffuzz``), property-based (``properties``) and
coverage-guided (``libfuzzer``, atheris) campaigns, and the findings they leave.

Rule: every finding is written as a ``harness.model.repro`` reproducer that
``python -m harness replay`` grades; campaigns use adapters like the engine does.
"""

"""sframe-conformance: conformance test harness and interop fuzzer for SFrame (RFC 9605)."""

__version__ = "0.1.0"

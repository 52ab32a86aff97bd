"""sframe-conformance: conformance test harness and interop fuzzer for SFrame (RFC 9605).

The package is layered; data flows one way, and a module may import only from
its own room or from a room of a lower rank (``tests/test_layers.py`` reads
every import and fails when one runs against the flow):

====  ==============  =====================================================
rank  room            what lives there
====  ==============  =====================================================
0     ``locations``   where things are on disk (the one place that knows)
0     ``model``       requirements, cases, grades and grading, wire types,
                      the wire codec, reproducer files: pure data and functions
1     ``catalogue``   loading and selecting cases; ``generate/`` writes the
                      generated vectors; the MLS exporter
1     ``adapters``    in-process, subprocess and browser adapters, the
                      registry of implementations, ``serve``: all I/O with
                      implementations
2     ``engine``      runner, interop matrix, expectations gate, results document
3     ``fuzz``        difffuzz, properties, atheris campaigns, findings
3     ``bench``       throughput, latency, overhead
3     ``media``       the aiortc SFU and the WebRTC media scenarios
4     ``reporters``   console, JSON, JUnit, HTML, plots of the results document
5     ``cli``         one module per command
====  ==============  =====================================================

Rooms of the same rank do not import each other (``catalogue`` never runs an
adapter: the generator is handed a reference to record expected outputs with).
``sframe_py`` (``implementations/python``) is the reference implementation and
imports nothing from ``harness``.
"""

__version__ = "0.1.0"

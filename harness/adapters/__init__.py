"""Adapters: how the harness talks to one implementation (in process, a subprocess
speaking the wire protocol, or a worker in headless Chromium), and the registry
that names them.

Rule: all I/O with implementations lives here, and every value that comes back
is validated here before it becomes a ``harness.model.wire.Response``. Adapters
never raise for implementation misbehaviour: a ``Response`` with ``fault`` set
says what went wrong.
"""

"""The Python implementation over stdio without the ``bench`` and ``timing`` ops, as a shim
written before issue 17 would be: for the benchmark's pipe fallback and the timing check's
``unsupported`` result."""

import sys

from harness.adapters.inprocess import PythonAdapter
from harness.adapters.serve import serve
from harness.model.wire import Hello

HIDDEN = ("bench", "timing")


class OlderPython(PythonAdapter):
    def __init__(self) -> None:
        super().__init__("older-python")
        for op in HIDDEN:
            del self._ops[op]
        fields = self._hello({})
        self._ops["hello"] = lambda f: {**fields, "capabilities": [c for c in fields["capabilities"]
                                                                     if c not in HIDDEN]}
        self.hello = Hello.from_fields(self._ops["hello"]({}))


if __name__ == "__main__":
    serve(OlderPython(), sys.stdin.buffer, sys.stdout.buffer)

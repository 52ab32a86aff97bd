"""ClusterFuzzLite / OSS-Fuzz entry of the coverage-guided differential campaign (harness/fuzz/coverage_driver.py).

.clusterfuzzlite/build.sh packages this file with PyInstaller as ``cfl_differential``
next to the coverage build of the C implementation (``sframe-server-cov``) and
``cfl_differential.json``, the driver's config: sframe_py in process against that
server, as ``python -m harness fuzz --impl python --impl c`` runs them locally.
On ClusterFuzzLite a disagreement must be a crash to be reported, so the config
asks the driver to raise on its first one (``crash_on_finding``); the crash input
is then an ordinary campaign input: ``python -m harness fuzz`` shrinks it into a
reproducer when it is put into a campaign's ``findings/raw`` or replayed as a seed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main() -> None:
    here = Path(sys.executable if getattr(sys, "frozen", False) else __file__).resolve().parent
    os.environ.setdefault("SFRAME_FUZZ_CONFIG", str(here / "cfl_differential.json"))
    from harness.fuzz.coverage_driver import main as driver

    sys.exit(driver(list(sys.argv)))


if __name__ == "__main__":
    main()

#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build: one PyInstaller-packaged atheris binary per fuzz/fuzz_*.py,
# each with its seed corpus (generated from vectors/) and dictionary next to it in $OUT.
cd "$SRC/sframe-conformance"
pip3 install .

for target in fuzz/fuzz_*.py; do
  name=$(basename "$target" .py)          # fuzz_header, fuzz_decrypt, fuzz_context
  short=${name#fuzz_}
  compile_python_fuzzer "$target"

  seeds=$(mktemp -d)
  python3 - "$short" "$seeds" <<'PY'
import sys
from pathlib import Path
from harness.fuzz.libfuzzer import write_seeds
write_seeds(sys.argv[1], Path(sys.argv[2]))
PY
  (cd "$seeds" && zip -q -r "$OUT/${name}_seed_corpus.zip" .)
  cp "fuzz/dictionaries/$short.dict" "$OUT/$name.dict"
done

#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build:
# - one PyInstaller-packaged atheris binary per fuzz/fuzz_*.py (sframe_py's own invariants), each with
#   its seed corpus (generated from vectors/) and dictionary next to it in $OUT;
# - cfl_differential: the coverage-guided differential campaign (harness/fuzz/coverage_driver.py),
#   sframe_py in process against the C implementation's coverage build, whose SanitizerCoverage
#   edges and comparisons reach libFuzzer through shared memory (harness/PROTOCOL.md, "Fuzzing your
#   implementation with coverage").
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

# The differential campaign: the C server built for coverage (clang from the base image), the driver,
# its config (paths relative to $OUT), seeds and dictionary.
make -C implementations/c cov CC=clang COV_CC=clang
cp implementations/c/build/sframe-server-cov "$OUT/"
compile_python_fuzzer fuzz/cfl_differential.py
cat > "$OUT/cfl_differential.json" <<'JSON'
{"impls": ["python", "cmd:./sframe-server-cov"], "out": "cfl_differential-findings", "timeout": 5.0,
 "crash_on_finding": true}
JSON
seeds=$(mktemp -d)
python3 - "$seeds" <<'PY'
import sys
from pathlib import Path
from harness.adapters.inprocess import PythonAdapter
from harness.fuzz.coverage_program import Plan, seed_programs
plan = Plan.of([PythonAdapter()])
for i, program in enumerate(seed_programs(plan)):
    (Path(sys.argv[1]) / f"seed-{i:03d}").write_bytes(plan.encode(program))
PY
(cd "$seeds" && zip -q -r "$OUT/cfl_differential_seed_corpus.zip" .)
cp fuzz/dictionaries/program.dict "$OUT/cfl_differential.dict"

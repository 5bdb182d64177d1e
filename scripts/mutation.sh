#!/usr/bin/env bash
# Mutation testing of the core: alltx's facts and rules modules (see [tool.mutmut] in
# pyproject.toml for the tests that must kill the mutants). Takes about 25 minutes on 2 cores,
# so it is not part of .ci/run. Prints the score and the survivors.
#
#   bash scripts/mutation.sh
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/pip install -q -e '.[test]' 'mutmut>=3.8,<4'
rm -rf mutants
# mutmut runs the tests in its own processes: pytest's workers (addopts -n auto) would fight them
export PYTEST_ADDOPTS="-n 0"
.venv/bin/mutmut run --max-children "$(nproc)" > /dev/null 2>&1 || true

results=$(.venv/bin/mutmut results --all true 2>/dev/null)
killed=$(grep -c ': killed$' <<<"$results" || true)
total=$(grep -c ': ' <<<"$results" || true)
echo "mutants: $total, killed: $killed, score: $(( 100 * killed / total ))%"
echo "not killed (inspect one with: .venv/bin/mutmut show NAME):"
grep -v ': killed$' <<<"$results" || true

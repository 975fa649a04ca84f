#!/usr/bin/env bash
# Instructions per step of the model, the implementation and the executor on the benchmark batch (issue #5's executor
# ratio, independent of the machine's load); the executor with every check of the default run, and with issue #5's
# pipeline alone (no isolation or page-table checks, InstructionCount.IssueFivePipeline):
#   bash scripts/instructions.sh [core|default]      (default: core)
#   bash scripts/instructions.sh [core|default] generation   (the generator alone: the 200 traces StepBatch draws)
# Each part runs under valgrind's callgrind (tiered compilation off, so the JIT settles at once) for 1 and for 6 rounds
# of the 4,000-step batch; (6 rounds - 1 round) / (5 x 4,000) is its cost per step. Needs valgrind
# (apt-get install valgrind); takes a few minutes per part.
set -euo pipefail
cd "$(dirname "$0")/.."
slice=${1:-core}
command -v valgrind >/dev/null || { echo "instructions: valgrind is not installed (apt-get install valgrind)"; exit 1; }
dotnet build Benchmarks -c Release >/dev/null
dll=Benchmarks/bin/Release/net10.0/Benchmarks.dll
count() {
  DOTNET_TieredCompilation=0 valgrind --tool=callgrind --callgrind-out-file=/dev/null --smc-check=all \
    dotnet "$dll" instructions "$1" "$slice" "$2" 2>&1 | awk '/Collected/ { print $4 }'
}
if [ "${2:-}" = generation ]; then
  steps=$(dotnet "$dll" instructions generation "$slice" 1 | awk '{ print $(NF-4) }')
  one=$(count generation 1); six=$(count generation 6)
  echo "generation ($slice): $(( (six - one) / (5 * steps) )) instructions/step ($steps steps drawn per round)"
  exit 0
fi
declare -A per
for part in model implementation executor pipeline; do
  one=$(count "$part" 1); six=$(count "$part" 6)
  per[$part]=$(( (six - one) / 20000 ))
  echo "$part ($slice): ${per[$part]} instructions/step"
done
for part in executor pipeline; do
  awk -v m="${per[model]}" -v i="${per[implementation]}" -v e="${per[$part]}" -v p="$part" \
    'BEGIN { printf "%s / (model + implementation) = %.2fx (overhead %.2fx)\n", p, e / (m + i), (e - m - i) / (m + i) }'
done

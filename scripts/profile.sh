#!/usr/bin/env bash
# Where a campaign's time goes: perf samples of the `campaign` command (call graphs through the JIT's perf map), then
# the share of the whole process spent under each callee of one frame (default: the executor's per-trace loop).
#   bash scripts/profile.sh [TRACES] [FRAME]      e.g. bash scripts/profile.sh 30000 'IsolationCheck::Check'
# Needs perf (apt-get install linux-perf); writes /tmp/iommu-profile.{data,txt}. Shares, not times: they hold on a
# loaded machine too.
set -euo pipefail
cd "$(dirname "$0")/.."
traces=${1:-30000}
frame=${2:-CaseExecutor::RunOnce}
command -v perf >/dev/null || { echo "profile: perf is not installed (apt-get install linux-perf)"; exit 1; }
dotnet build Runner -c Release >/dev/null
out=$(mktemp -d)
DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 perf record -F 999 -g -o /tmp/iommu-profile.data \
  dotnet Runner/bin/Release/net10.0/IommuConformance.Runner.dll campaign --max-test "$traces" --out "$out" >/dev/null 2>&1
perf script -i /tmp/iommu-profile.data 2>/dev/null > /tmp/iommu-profile.txt
python3 scripts/perf_children.py /tmp/iommu-profile.txt "$frame"

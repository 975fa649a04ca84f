#!/usr/bin/env bash
# Every report from a fresh clone, in one command:  bash scripts/reports.sh
# tests with coverage and the gate (scripts/coverage.sh), the campaign, the seeded-bug hunt, then the conformance
# report from all three: reports/coverage/index.html, reports/campaign.md, reports/hunt.md, reports/conformance.html.
# Exit: the first failing part's status (the report is still written when the campaign or hunt failed).
set -uo pipefail
cd "$(dirname "$0")/.."
runner() { dotnet run --project Runner -c Release --no-build -- "$@"; }

dotnet build IommuConformance.sln -c Release || exit 1
bash scripts/coverage.sh --no-build; status=$?
runner campaign; campaign=$?
runner hunt; hunt=$?
runner report || exit $?
for s in $status $campaign $hunt; do if [ "$s" -ne 0 ]; then exit "$s"; fi; done

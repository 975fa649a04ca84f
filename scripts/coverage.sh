#!/usr/bin/env bash
# Tests with coverage and the coverage gate, in one command:
#   bash scripts/coverage.sh [dotnet test options, e.g. --no-build]
# runs every test of `dotnet test` in two runs: all but Category=BugHunt with coverlet, then the BugHunt tests (the
# per-seeded-bug hunts and shrinks, Properties/Support/TestCategories.cs) without it, since coverlet's hit counters make
# their page-table loops several times slower and the first run covers what they run (TRX results of both in
# TestResults/). It merges the coverage files with
# ReportGenerator (local tool) into reports/coverage/ (index.html, Summary.md, merged Cobertura.xml, Summary.txt,
# Summary.json), prints the summary, and fails below the thresholds set here, the one place they are set
# (COVERAGE_LINE_MIN / COVERAGE_BRANCH_MIN override them for one run, e.g. to see the gate fail).
# Exit: the tests' status if they failed, else ReportGenerator's (non-zero below a threshold).
set -uo pipefail
cd "$(dirname "$0")/.."

LINE_MIN=${COVERAGE_LINE_MIN:-93}
BRANCH_MIN=${COVERAGE_BRANCH_MIN:-85}

rm -rf TestResults reports/coverage
dotnet test IommuConformance.sln -c Release "$@" --filter "Category!=BugHunt" \
  --logger "trx;LogFilePrefix=results" --results-directory TestResults \
  --collect:"XPlat Code Coverage"
tests=$?
echo "::: the BugHunt tests, without coverage (scripts/coverage.sh)"
dotnet test IommuConformance.sln -c Release "$@" --filter "Category=BugHunt" \
  --logger "trx;LogFilePrefix=hunts" --results-directory TestResults
hunts=$?
if [ "$tests" -eq 0 ]; then tests=$hunts; fi

dotnet tool restore >/dev/null || { echo "coverage: dotnet tool restore failed"; exit 1; }
# The TRX logger writes a second copy of each coverage file: ReportGenerator merges them (same lines, same hits).
# The gate is ReportGenerator's own: it exits non-zero below a threshold and says which one (shown below).
log=$(dotnet tool run reportgenerator -reports:"TestResults/**/coverage.cobertura.xml" -targetdir:reports/coverage \
  -reporttypes:"Html;MarkdownSummary;Cobertura;TextSummary;JsonSummary" \
  "minimumCoverageThresholds:lineCoverage=$LINE_MIN" "minimumCoverageThresholds:branchCoverage=$BRANCH_MIN" 2>&1)
gate=$?

echo "::: coverage (gate: line >= $LINE_MIN %, branch >= $BRANCH_MIN %; scripts/coverage.sh)"
sed -n '1,16p' reports/coverage/Summary.txt 2>/dev/null || echo "(no coverage summary)"
if [ "$tests" -ne 0 ]; then exit "$tests"; fi
if [ "$gate" -ne 0 ]; then
  grep -iE 'below the minimum|error' <<<"$log" | sed 's/^[0-9T:-]*: //'
  echo "coverage gate FAILED (thresholds: line $LINE_MIN %, branch $BRANCH_MIN %, set in scripts/coverage.sh)"
  exit "$gate"
fi
echo "coverage gate passed"

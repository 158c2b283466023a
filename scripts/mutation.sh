#!/usr/bin/env bash
# Mutation testing of lib/drawdown/metrics with mutmut (docs/testing.md#mutation-testing).
#
#   scripts/mutation.sh                  the decision rules (RULES below): every threshold,
#                                        window and rounding of docs/metrics.md
#   scripts/mutation.sh 'drawdown.metrics.commit.*'   any mutant-name patterns (fnmatch)
#   MUTATION_SCOPE=all scripts/mutation.sh            every function of metrics/ (~4,700 mutants:
#                                                     hours on two cores)
#   MUTATION_TESTS_REV=main scripts/mutation.sh       judge with the tests of another revision
#                                                     (a score "before"), in its own folder
#   MUTATION_GOLDEN=0                                 leave tests/test_golden.py out
#   MUTATION_MODULES="forecast actions"              every function of these modules of
#                                                     metrics/, one module after the other (the
#                                                     results of each are kept as it finishes)
#   MUTATION_RERUN=0                                  with patterns: only the mutants not checked
#                                                     yet (a run that was stopped goes on)
#   MUTATION_SAMPLE=K                                 with patterns: only mutants numbered 1 mod K
#                                                     (a systematic sample, when time is short)
#   MUTATION_TIMEOUT_MULTIPLIER=M                     wall-time limit per mutant: (its tests' time
#                                                     + 1 s) x M (default 60; mutmut's own is 15)
#   MUTATION_CHILDREN=N                               mutmut's --max-children (default: the cores)
#
# mutmut copies the code into a `mutants/` folder of the directory it runs in and imports the
# package from `mutants/src`. drawdown lives in lib/, so this script lays out a staging copy in
# build/mutation/ (src/drawdown, tests, params, docs and a pyproject.toml holding only the mutmut
# and pytest settings) and runs mutmut there: every working file stays under build/.
# The staged mutants are kept between runs (mutmut reuses the results of unchanged functions and
# tests) unless lib/drawdown changed, which starts afresh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# The functions that hold a threshold, a window, a rounding or a ladder (docs/testing.md).
RULES=(
  commit.x_band commit.x_burn commit.x_exhaustion_date commit.x_exhausts_before_term_end
  commit.x_run_rate commit.x_run_rate_window_start commit.x_account_value
  health.x_early_warnings health.x_is_smooth health.x_adoption_stage
  overconsumption.x_is_over overconsumption.x_over_units overconsumption.x_meter_pattern
  overconsumption.x_triage overconsumption.x_first_month
  reset.x_reset_status reset.x_due_date reset.x_value_reviews
  actions.x_rules actions.x_next_action actions.x__unit_cost_jumped actions.x_consumption_change
  changes.x__differences
  periods.x_complete_months periods.x_shift_months periods.x_days_left_in_month periods.x_claimable
)
if [ $# -gt 0 ]; then
  patterns=("$@")
elif [ -n "${MUTATION_MODULES:-}" ]; then
  for module in $MUTATION_MODULES; do
    MUTATION_MODULES='' "$0" "drawdown.metrics.${module}.*"
  done
  exit 0
elif [ "${MUTATION_SCOPE:-rules}" = all ]; then
  patterns=()
else
  patterns=()
  for rule in "${RULES[@]}"; do patterns+=("drawdown.metrics.${rule}__mutmut_*"); done
fi

rev=${MUTATION_TESTS_REV:-}
stage=build/mutation${rev:+-$rev}
mkdir -p "$stage"

# A change to the mutated code (metrics/) starts afresh; any other change of the package is
# copied in and mutmut keeps its results.
if [ -d "$stage/src/drawdown" ] \
  && ! diff -rq --exclude=__pycache__ lib/drawdown/metrics "$stage/src/drawdown/metrics" >/dev/null; then
  echo "lib/drawdown/metrics changed since the last mutation run: starting afresh"
  rm -rf "$stage/src" "$stage/mutants"
fi
mkdir -p "$stage/src"
if ! diff -rq --exclude=__pycache__ lib/drawdown "$stage/src/drawdown" >/dev/null 2>&1; then
  rm -rf "$stage/src/drawdown"
  cp -a lib/drawdown "$stage/src/drawdown"
fi
rm -rf "$stage/tests" "$stage/params" "$stage/docs"
cp -a params docs "$stage/"
if [ -n "$rev" ]; then
  git archive "$rev" tests | tar -x -C "$stage"
else
  cp -a tests "$stage/"
fi
find "$stage" -name __pycache__ -prune -exec rm -rf {} +
# The golden digests: tests/test_golden.py (in tests/test_bench.py before it had its own file).
golden=tests/test_golden.py
[ -f "$stage/$golden" ] || golden=tests/test_bench.py
selection="\"tests/metrics\", \"$golden\""
# MUTATION_GOLDEN=0: tests/metrics alone (for a revision whose golden digests are out of date)
[ "${MUTATION_GOLDEN:-1}" = 0 ] && selection="\"tests/metrics\""

cat > "$stage/pyproject.toml" <<TOML
# Written by scripts/mutation.sh: mutmut's settings for the staged copy.
[tool.mutmut]
source_paths = ["src"]
only_mutate = ["src/drawdown/metrics/*"]
also_copy = ["params", "docs"]
# The unit edges of the metrics and the golden books: the tests that judge a metric's numbers.
pytest_add_cli_args_test_selection = [$selection]
# The row-order property compares the code with itself (a mutant changes both sides alike) and
# takes more time than all the other tests of a function together: left out of the mutation run.
pytest_add_cli_args = ["-p", "no:cacheprovider", "-p", "no:xdist", "--deselect",
  "tests/metrics/test_commit.py::test_ratios_are_invariant_to_row_order_and_split_days"]
# Polars' thread pool does not survive a fork: a worker forked from a process that has run a
# query hangs. Workers fork from a server that has only imported the modules.
process_isolation = "forkserver"
# A mutant is stopped after (its tests' time + 1 s) x this many seconds of wall time. mutmut's 15
# called mutants "timeout" (and counted them as killed) that were only starved of CPU on two cores
# shared under nice -n 19; a real endless loop still ends.
timeout_multiplier = ${MUTATION_TIMEOUT_MULTIPLIER:-60}
forkserver_warmup = "import"
preload_modules_file = "preload.txt"

[tool.pytest.ini_options]
testpaths = ["tests"]
addopts = "--strict-markers"
markers = [
    "slow: end-to-end tests that execute notebooks or render reports",
    "postgres: tests that need the throwaway PostgreSQL server",
]
TOML
printf '%s\n' polars pytest hypothesis drawdown.params drawdown.inputs.contract \
  drawdown.inputs.rating drawdown.metrics > "$stage/preload.txt"

cd "$stage"
children=()
[ -n "${MUTATION_CHILDREN:-}" ] && children=(--max-children "$MUTATION_CHILDREN")
names=(${patterns[@]+"${patterns[@]}"})
if [ ${#names[@]} -gt 0 ] && { [ "${MUTATION_RERUN:-1}" = 0 ] || [ -n "${MUTATION_SAMPLE:-}" ]; } \
  && [ -d mutants ]; then
  # the mutants matching the patterns: with MUTATION_RERUN=0 those without a result yet, with
  # MUTATION_SAMPLE=K those numbered 1 mod K
  mapfile -t names < <("$root/.venv/bin/mutmut" results --all true 2>/dev/null \
    | MUTATION_RERUN=${MUTATION_RERUN:-1} MUTATION_SAMPLE=${MUTATION_SAMPLE:-1} \
      "$root/.venv/bin/python" -c '
import fnmatch, os, re, sys
patterns, sample = sys.argv[1:], int(os.environ["MUTATION_SAMPLE"])
pending_only = os.environ["MUTATION_RERUN"] == "0"
for line in sys.stdin:
    m = re.match(r"\s*(\S+): (.+)$", line)
    if not m or not any(fnmatch.fnmatch(m.group(1), p) for p in patterns):
        continue
    if pending_only and m.group(2).strip() != "not checked":
        continue
    if sample > 1 and int(m.group(1).rsplit("_", 1)[1]) % sample != 1:
        continue
    print(m.group(1))
' "${patterns[@]}")
  echo "${#names[@]} mutants to run in ${patterns[*]}"
fi
if [ ${#patterns[@]} -eq 0 ] || [ ${#names[@]} -gt 0 ]; then
  "$root/.venv/bin/mutmut" run ${children[@]+"${children[@]}"} ${names[@]+"${names[@]}"} || true
fi
"$root/.venv/bin/mutmut" results --all true > results.txt 2>&1 || true
"$root/.venv/bin/python" - ${patterns[@]+"${patterns[@]}"} <<'PY'
"""Counts of the mutants in scope, the score and the survivors (results.txt, survivors.txt)."""
import collections
import fnmatch
import pathlib
import re
import sys

patterns = sys.argv[1:] or ["*"]
counts, survivors = collections.Counter(), []
for line in pathlib.Path("results.txt").read_text().splitlines():
    match = re.match(r"\s*(\S+): (.+)$", line)
    if match and any(fnmatch.fnmatch(match.group(1), p) for p in patterns):
        counts[match.group(2).strip()] += 1
        if match.group(2).strip() == "survived":
            survivors.append(match.group(1))
pathlib.Path("survivors.txt").write_text("".join(f"{name}\n" for name in survivors))
checked = sum(n for status, n in counts.items() if status != "not checked")
killed = counts["killed"] + counts["timeout"]
print("mutants in scope:", dict(counts))
if checked:
    print(f"killed {killed} of {checked} checked: {killed / checked:.1%}")
print(f"survivors: {len(survivors)} (listed in {pathlib.Path('survivors.txt').resolve()})")
PY

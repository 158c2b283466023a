#!/usr/bin/env bash
# Mutation testing of lib/drawdown/metrics with mutmut (docs/testing.md#mutation-testing).
#
# mutmut copies the code into a `mutants/` folder of the directory it runs in and imports the
# package from `mutants/src`. drawdown lives in lib/, so this script lays out a staging copy in
# build/mutation/ (src/drawdown, tests, params, docs and a pyproject.toml holding only the mutmut
# and pytest settings) and runs mutmut there: every working file stays under build/.
# The staged mutants are kept between runs (mutmut reuses the results of unchanged functions)
# unless lib/drawdown changed, which starts afresh. Arguments go to `mutmut run` (mutant names).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
stage=build/mutation
mkdir -p "$stage"

if [ -d "$stage/src/drawdown" ] && ! diff -rq --exclude=__pycache__ lib/drawdown "$stage/src/drawdown" >/dev/null; then
  echo "lib/drawdown changed since the last mutation run: starting afresh"
  rm -rf "$stage/src" "$stage/mutants"
fi
mkdir -p "$stage/src"
[ -d "$stage/src/drawdown" ] || cp -a lib/drawdown "$stage/src/drawdown"
rm -rf "$stage/tests" "$stage/params" "$stage/docs"
cp -a tests params docs "$stage/"
find "$stage" -name __pycache__ -prune -exec rm -rf {} +

cat > "$stage/pyproject.toml" <<'TOML'
# Written by scripts/mutation.sh: mutmut's settings for the staged copy.
[tool.mutmut]
source_paths = ["src"]
only_mutate = ["src/drawdown/metrics/*"]
also_copy = ["params", "docs"]
# The unit edges of the metrics and the golden books: the tests that judge a metric's numbers.
pytest_add_cli_args_test_selection = ["tests/metrics", "tests/test_golden.py"]
pytest_add_cli_args = ["-p", "no:cacheprovider", "-p", "no:xdist"]

[tool.pytest.ini_options]
testpaths = ["tests"]
addopts = "--strict-markers"
markers = [
    "slow: end-to-end tests that execute notebooks or render reports",
    "postgres: tests that need the throwaway PostgreSQL server",
]
TOML

cd "$stage"
"$root/.venv/bin/mutmut" run "$@" || true
"$root/.venv/bin/mutmut" results --all true > results.txt 2>&1 || true
"$root/.venv/bin/python" - <<'PY'
import collections, re, pathlib
counts = collections.Counter()
for line in pathlib.Path("results.txt").read_text().splitlines():
    match = re.match(r"\s*(\S+): (.+)$", line)
    if match:
        counts[match.group(2).strip()] += 1
total = sum(counts.values())
killed = counts["killed"] + counts["timeout"]
print("mutants:", dict(counts))
if total:
    print(f"killed {killed} of {total}: {killed / total:.1%}")
PY

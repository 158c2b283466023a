#!/usr/bin/env bash
# Idempotent setup: uv (bootstrapped with pip if missing), .venv from uv.lock, the project in
# editable mode, and a Jupyter kernel named "drawdown" registered inside the venv.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet uv || python3 -m pip install --quiet --user uv
  export PATH="$HOME/.local/bin:$PATH"
fi
# --compile-bytecode: the packages' .pyc files written once, here. Python writes them itself at
# the first import, except where PYTHONDONTWRITEBYTECODE is set (as on our CI machines): there
# every process (the CLI, each kernel) compiled every module it imports again, about 2 s a
# process.
uv sync --frozen --quiet --compile-bytecode --extra spark --extra duckdb
.venv/bin/python -m ipykernel install --sys-prefix --name drawdown --display-name "Python (drawdown)" >/dev/null

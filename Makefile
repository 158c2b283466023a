# drawdown: every target calls the installed CLI (or the test runner); `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash
BIN := .venv/bin
SAMPLE := data/sample

.PHONY: help setup system-deps quarto sample validate report test test-scale lint format bench bench-render mutation

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

.venv/.setup-done: pyproject.toml uv.lock scripts/setup.sh
	@scripts/setup.sh
	@touch $@

setup: .venv/.setup-done ## create .venv with uv, install drawdown (editable) and its Jupyter kernel

system-deps: ## install Chromium, poppler and PostgreSQL when missing (Debian)
	@scripts/system-deps.sh

quarto: ## say which Quarto drawdown renders with, or how to install one
	@if q=$${QUARTO_PATH:-$$(command -v quarto)} && [ -n "$$q" ] && "$$q" --version >/dev/null 2>&1; then \
	  echo "drawdown renders with Quarto $$("$$q" --version) ($$q)"; \
	else \
	  echo "No Quarto found: reports render with nbconvert + Chromium."; \
	  echo "Install Quarto from its official releases, https://quarto.org/docs/download/"; \
	  echo "  (Debian/Ubuntu: sudo dpkg -i quarto-<version>-linux-amd64.deb; or unpack the tarball),"; \
	  echo "then put quarto on PATH or export QUARTO_PATH=/path/to/quarto."; \
	  if [ -f ../shared/quarto/assemble.sh ]; then \
	    echo "Offline, on our machines: ../shared/quarto/assemble.sh (then export QUARTO_PATH=/opt/quarto-1.6.42/quarto)."; \
	  fi; \
	fi

sample: setup ## write the sample book to data/sample
	@$(BIN)/drawdown sample --out $(SAMPLE)

validate: sample ## validate the sample book and print its data-quality report
	@$(BIN)/drawdown validate --data $(SAMPLE)

report: validate system-deps ## sample book -> validate -> full run with reports; prints where they are
	@$(BIN)/drawdown run --data $(SAMPLE) --params params/sample.yaml

test: setup system-deps ## run the test suite
	@$(BIN)/pytest -n 2 --dist loadfile -q

test-scale: setup system-deps ## sharded and Spark runs byte-identical to the whole book on 5,000 accounts (minutes; not in CI)
	@$(BIN)/pytest -m scale -q

lint: setup ## ruff check and format check
	@$(BIN)/ruff check lib tests bench
	@$(BIN)/ruff format --check lib tests bench

format: setup ## ruff format and autofix
	@$(BIN)/ruff format lib tests bench
	@$(BIN)/ruff check --fix lib tests bench

bench: setup ## benchmark S and M books (L with BENCH_L=1); prints a table
	@$(BIN)/python bench/run.py $(if $(BENCH_L),--large --compute-only L,)

bench-render: setup ## the default run with Quarto and with nbconvert + Chromium, side by side
	@$(BIN)/python bench/run.py --renderers

mutation: setup ## mutation testing of lib/drawdown/metrics with mutmut (slow; not in CI); works in build/mutation
	@scripts/mutation.sh

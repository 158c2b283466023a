# drawdown: every target calls the installed CLI (or the test runner); `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash
BIN := .venv/bin
SAMPLE := data/sample

.PHONY: help setup system-deps sample validate report test lint format bench mutation

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

.venv/.setup-done: pyproject.toml uv.lock scripts/setup.sh
	@scripts/setup.sh
	@touch $@

setup: .venv/.setup-done ## create .venv with uv, install drawdown (editable) and its Jupyter kernel

system-deps: ## install Chromium, poppler and PostgreSQL when missing (Debian)
	@scripts/system-deps.sh

sample: setup ## write the sample book to data/sample
	@$(BIN)/drawdown sample --out $(SAMPLE)

validate: sample ## validate the sample book and print its data-quality report
	@$(BIN)/drawdown validate --data $(SAMPLE)

report: validate system-deps ## sample book -> validate -> full run with reports; prints where they are
	@$(BIN)/drawdown run --data $(SAMPLE) --params params/sample.yaml

test: setup system-deps ## run the test suite
	@$(BIN)/pytest -n 2 --dist loadfile -q

lint: setup ## ruff check and format check
	@$(BIN)/ruff check lib tests bench
	@$(BIN)/ruff format --check lib tests bench

format: setup ## ruff format and autofix
	@$(BIN)/ruff format lib tests bench
	@$(BIN)/ruff check --fix lib tests bench

bench: setup ## benchmark S and M books (L with BENCH_L=1); prints a table
	@$(BIN)/python bench/run.py $(if $(BENCH_L),--large --compute-only L,)

mutation: setup ## mutation testing of lib/drawdown/metrics with mutmut (slow; not in CI); works in build/mutation
	@scripts/mutation.sh

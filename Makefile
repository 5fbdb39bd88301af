# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint setup setup-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The demo and then its dashboard (govweibo serve): the core with the web and opinion extras.
setup: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[web,opinion]"

# Everything the tests cover: the test tools and the web, opinion, spark and report extras.
setup-test: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[web,opinion,test]"

demo: setup
	$(BIN)/govweibo --db demo/govweibo.duckdb demo --out demo

lint: setup-test
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy src

test: lint
	$(BIN)/python -m pytest -q

clean:
	rm -rf demo .pytest_cache

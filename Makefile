# The two commands a newcomer runs: `make demo` and `make test`. Everything they need is
# installed here, into .venv, from the package registry.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv test lint typecheck generate check-generated pytest demo bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy --strict acme_powerschool tests/typing

generate: venv
	$(BIN)/python -m codegen

check-generated: venv
	$(BIN)/python -m codegen --check

pytest: venv
	$(BIN)/python -m pytest

test: lint typecheck check-generated pytest

demo: venv
	$(BIN)/python -m acme_powerschool.demo

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build dist *.egg-info

# The two commands a newcomer runs: `make demo` and `make test`. Everything they need is
# installed here, into .venv, from the package registry.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
.DEFAULT_GOAL := test
STAMP := $(VENV)/.installed

# Best effort: the Linux Secret Service (gnome-keyring + D-Bus) for the real-keyring tests.
# Installed from Debian's packages when running as root with apt-get; otherwise those tests skip.
system-deps:
	@if command -v gnome-keyring-daemon >/dev/null && command -v dbus-run-session >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo 'installing gnome-keyring and dbus for the Secret Service tests'; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends gnome-keyring dbus dbus-user-session >/dev/null) \
			|| echo 'could not install gnome-keyring; Secret Service tests will skip'; \
	else echo 'gnome-keyring not installed; Secret Service tests will skip'; fi

.PHONY: mutate venv system-deps test lint typecheck generate check-generated docs-build docs pytest demo bench clean

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

# The docs site: built with --strict (no broken link or reference) in `make test`; `make docs`
# serves it on http://127.0.0.1:8000 while you edit.
docs-build: venv
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

docs: venv
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

# Bytecode first: many tests start the CLI, the simulator or a sync in a fresh interpreter, and
# where PYTHONDONTWRITEBYTECODE is set each of them would compile the package from source.
pytest: venv system-deps
	$(BIN)/python -m compileall -q acme_powerschool >/dev/null
	$(BIN)/python -m pytest

test: lint typecheck check-generated docs-build pytest

# Mutation testing over core/, shell/ and client.py (configured in pyproject.toml's
# [tool.mutmut]); slow, so not part of `make test`. MODULES narrows it, e.g.
# `make mutate MODULES='acme_powerschool.shell.credentials*'`; `mutmut results` lists survivors.
MODULES ?=
mutate: venv
	$(BIN)/mutmut run --max-children 2 $(MODULES)
	$(BIN)/mutmut results

demo: venv
	$(BIN)/python -m acme_powerschool.demo

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build dist *.egg-info

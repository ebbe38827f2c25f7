# Quick start: `make plan` (offline plan of draft-feature-x), `make test` (the whole suite).
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
STACK ?= draft-feature-x

.PHONY: plan test lint typecheck unit system-deps toolchain bench schemas clean

$(STAMP): pyproject.toml requirements.txt requirements-envctl.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

plan: $(STAMP)
	$(BIN)/envctl plan $(STACK)

system-deps: $(STAMP)
	bash tools/install-system-deps.sh
	VENV=$(VENV) bash tools/install-compose-plugin.sh

# The real Pulumi CLI, kubernetes provider and test-cluster binaries, built from Go modules
# into .toolchain/bin (cached under ~/.cache/environments/toolchain by version).
toolchain:
	bash tools/toolchain/build.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -m "not staging and not vault and not engine and not cluster and not prometheus"

test: $(STAMP) system-deps toolchain lint typecheck
	PATH="$(CURDIR)/.toolchain/bin:$$PATH" $(BIN)/pytest

schemas: $(STAMP)
	$(PY) tools/export_schemas.py

bench: $(STAMP)
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .toolchain .pytest_cache .mypy_cache .ruff_cache .hypothesis

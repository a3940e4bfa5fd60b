# FusionCare: `make run` serves the app with demo data on SQLite; `make test` runs the static checks, then the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint system-deps bench mutation clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

# Debian packages the tests need (headless Chromium, fonts, pdftoppm); installed only when missing.
system-deps:
	@scripts/system-deps.sh

run: $(VENV)/.installed
	$(BIN)/fusioncare init
	$(BIN)/fusioncare demo
	$(BIN)/fusioncare serve --host $(HOST) --port $(PORT)

# Static checks: ruff's lint rules (not its formatter) and mypy, both configured in pyproject.toml; both run,
# and lint fails if either does.
lint: $(VENV)/.installed-dev
	@status=0; \
	$(BIN)/ruff check . || status=1; \
	$(BIN)/mypy fusioncare || status=1; \
	exit $$status

test: $(VENV)/.installed-dev lint system-deps node_modules/.package-lock.json
	$(BIN)/python -m pytest

# axe-core for the accessibility tests, pinned in package.json/package-lock.json; (re)installed when missing or when the lock file changes.
node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@ $(VENV)/.installed-dev $(VENV)/.installed

bench: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks

$(VENV)/.installed-mutation: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,mutation]'
	touch $@ $(VENV)/.installed-dev $(VENV)/.installed

# Mutation testing of the safety-critical modules (slow: tens of minutes on 2 cores); writes benchmarks/out/mutation.json.
# MUTATION_MODULES=npi csrf limits it to some modules; MUTATION_CHILDREN sets how many mutants run at once.
MUTATION_MODULES ?=
MUTATION_CHILDREN ?= 1
mutation: $(VENV)/.installed-mutation system-deps node_modules/.package-lock.json
	$(BIN)/python -m benchmarks.mutation $(MUTATION_MODULES) --max-children $(MUTATION_CHILDREN)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache .ruff_cache

# FusionCare: `make run` serves the app with demo data on SQLite; `make test` runs the static checks, then the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint system-deps bench clean

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

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .mypy_cache .ruff_cache

# harmscope: the two commands a fresh machine needs are `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test lint bench validate browser clean

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	# Reference data only (Proposition 99, for the synthetic-control check); its declared
	# dependencies pin an old statsmodels, so it is installed without them.
	$(PY) -m pip install -q --disable-pip-version-check --no-deps pyautocausal==0.1.1
	@touch $(STAMP)

setup: $(STAMP)

# Headless Chromium (Debian package) for PDF output and the browser tests.
browser:
	@bash scripts/install-chromium.sh

demo: setup
	$(VENV)/bin/harmscope demo --out demo-output

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks scripts

test: setup browser lint
	$(VENV)/bin/pytest -q

bench: setup browser
	$(PY) benchmarks/run.py bench

validate: setup
	$(PY) benchmarks/run.py validate

clean:
	rm -rf demo-output harmscope.duckdb .pytest_cache

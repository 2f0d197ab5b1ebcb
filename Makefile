# harmscope: the two commands a fresh machine needs are `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test lint bench validate browser clean fuzz postgres serve serve-stop

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

# Style, imports, bugbear, and C901: no function over McCabe complexity 12 (pyproject.toml).
lint: setup
	$(VENV)/bin/ruff check src tests benchmarks scripts

# PostgreSQL server (Debian package) for the shared workspace and its tests.
postgres:
	@bash scripts/install-postgres.sh

# The tests start and stop their own throwaway PostgreSQL cluster (tests/pg_cluster.py).
test: setup browser postgres lint
	# One worker per core, each test file whole on one worker (its module fixtures built once).
	$(VENV)/bin/pytest -q -n auto --dist loadfile

# The shared workspace on a local PostgreSQL cluster in .pgdata/ (unix socket in that folder,
# no TCP port for the database); the web app listens on SERVE_HOST:SERVE_PORT.
PGDATA_DIR ?= .pgdata
SERVE_HOST ?= 127.0.0.1
SERVE_PORT ?= 8000
serve: setup postgres
	@url=$$(sh scripts/pg-cluster.sh start $(PGDATA_DIR)) && echo "PostgreSQL store: $$url" && \
	$(VENV)/bin/harmscope serve --db "$$url" --host $(SERVE_HOST) --port $(SERVE_PORT)

serve-stop:
	@sh scripts/pg-cluster.sh stop $(PGDATA_DIR)

# Property tests only (pytest's `hypothesis` marker), with fresh random examples and every
# test's budget raised to FUZZ_EXAMPLES (HYPOTHESIS_PROFILE=fuzz, tests/conftest.py). The seed
# is printed before and after; replay a failure with `make fuzz FUZZ_SEED=N FUZZ_EXAMPLES=M`.
FUZZ_EXAMPLES ?= 1000
FUZZ_SEED ?=
fuzz: setup
	@seed="$(FUZZ_SEED)"; [ -n "$$seed" ] || seed=$$(od -An -N4 -tu4 /dev/urandom | tr -d ' '); \
	echo "make fuzz: budget $(FUZZ_EXAMPLES) examples per property test, --hypothesis-seed=$$seed"; \
	HYPOTHESIS_PROFILE=fuzz HYPOTHESIS_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(VENV)/bin/pytest -q \
		-m hypothesis --hypothesis-seed=$$seed; status=$$?; \
	echo "make fuzz: budget $(FUZZ_EXAMPLES), seed $$seed, exit $$status" \
		"(replay: make fuzz FUZZ_SEED=$$seed FUZZ_EXAMPLES=$(FUZZ_EXAMPLES))"; \
	exit $$status

bench: setup browser
	$(PY) benchmarks/run.py bench

validate: setup
	$(PY) benchmarks/run.py validate

clean:
	rm -rf demo-output harmscope.duckdb .pytest_cache

# The README's first two commands: `make demo` and `make test`. Both install into .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install browser demo test test-fast lint dev validate clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (set PYTHON=/path/to/python3.11)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The staff page's browser test drives the system's Chromium (Debian's package), never a
# downloaded one. CI installs it; elsewhere the test skips, saying so, when it is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || [ -z "$$CI" ] || \
		apt-get install -y -q chromium >/dev/null 2>&1 || \
		{ apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }

demo: install
	$(BIN)/enrich demo

test: install browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/dagster definitions validate
	$(BIN)/python -m pytest -m "not daemon" -n 2
	# Each daemon test has an instance of its own (a scratch database, free ports), and mostly
	# waits on the daemon's 30 s iterations: side by side they take as long as the longest.
	$(BIN)/python -m pytest -m daemon -n 3
	$(BIN)/python scripts/check_quickstart.py

# The quick loop while working: lint and every test but the end-to-end and daemon ones
# (three workers on two cores: many of these tests wait on sockets and subprocesses).
test-fast: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -m "not e2e and not daemon" -n 3 -q

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

dev: install
	$(BIN)/dagster dev -w workspace.yaml

clean:
	rm -rf $(VENV) .enrich .pytest_cache .ruff_cache

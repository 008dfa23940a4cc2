# Two commands on a fresh machine with Python 3.11 (see README):
#   make demo   set everything up and open the live demo (a synthetic MuseumWeek replayed live)
#   make test   set everything up and run the whole test suite, lint and type checks
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: chromium setup demo test lint typecheck pytest bench clean docs

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP) chromium

# The web app's browser tests drive Debian's chromium (Playwright's own browser download is never
# used: it needs the network). Installed when missing and root or password-less sudo is available.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo apt-get update -qq && sudo apt-get install -y -qq chromium; \
	  else echo "chromium is missing and cannot be installed here: browser tests will be skipped"; fi; }

demo: $(STAMP)
	$(BIN)/salon demo --live

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest -q

test: lint typecheck pytest

# docs/cli.md from the commands' --help (tests/test_docs.py checks it is current).
docs: $(STAMP)
	$(BIN)/python -m salon.clidocs

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache

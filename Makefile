# Two commands on a fresh machine with Python 3.11 (see README):
#   make demo   set everything up and open the live demo (a synthetic MuseumWeek replayed live)
#   make test   set everything up and run the whole test suite, lint and type checks
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: system setup demo test lint typecheck pytest bench clean docs

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,spark]'
	touch $(STAMP)

setup: $(STAMP) system

# Debian packages from deps/debian-packages.txt (browser, fonts, ...), each installed only when
# missing, with --no-install-recommends, as root or with password-less sudo; it says what it installs.
system:
	@pkgs=$$(sed -e 's/#.*//' deps/debian-packages.txt | xargs); \
	missing=$$(for p in $$pkgs; do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done | xargs); \
	if [ -z "$$missing" ]; then echo "Debian packages: all present ($$pkgs)"; exit 0; fi; \
	echo "Debian packages to install: $$missing"; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO=sudo; \
	else echo "cannot install them here (not root, no sudo): browser tests will be skipped"; exit 0; fi; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing

demo: $(STAMP)
	$(BIN)/salon demo --live

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/bandit -q -r src/salon --severity-level high

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

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

# mypy's cache lives outside the clone (override with MYPY_CACHE=...): a fresh clone, as in CI,
# then checks in ~1 s of CPU instead of ~18 s (mypy re-reads a file whose content changed).
MYPY_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/salon/mypy

typecheck: setup
	$(BIN)/mypy --cache-dir "$(MYPY_CACHE)"

# Tests run in parallel (pytest-xdist), one worker per CPU: most of the suite waits on DuckDB,
# subprocesses, servers and a browser, one test at a time. The Spark tests share one worker and
# its JVM (their xdist_group, tests/conftest.py). The slowest tests are listed at the end.
PYTEST_ARGS ?= -q -n auto --dist loadgroup --durations=15

pytest: setup
	$(BIN)/pytest $(PYTEST_ARGS)

# The whole check, as CI runs it: ruff first (seconds, fails fast), then mypy in the background
# while pytest runs (its report follows pytest's; either failing fails the target). bandit runs
# inside pytest (tests/test_bandit.py), so not a second time here (`make lint` still runs it).
test: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	@log=$$(mktemp); \
	$(BIN)/mypy --cache-dir "$(MYPY_CACHE)" >"$$log" 2>&1 & types=$$!; \
	$(BIN)/pytest $(PYTEST_ARGS); tests=$$?; \
	wait $$types; typed=$$?; \
	echo "mypy (run beside pytest):"; cat "$$log"; rm -f "$$log"; \
	if [ $$tests -ne 0 ]; then echo "pytest failed"; fi; \
	if [ $$typed -ne 0 ]; then echo "mypy failed"; fi; \
	[ $$tests -eq 0 ] && [ $$typed -eq 0 ]

# docs/cli.md from the commands' --help (tests/test_docs.py checks it is current).
docs: $(STAMP)
	$(BIN)/python -m salon.clidocs

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache

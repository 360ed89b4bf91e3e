# Driftline: `make demo` starts the service on the embedded default, `make test` runs every check.
# Both work from a fresh clone on Debian with Python 3.11: they create .venv and install what
# they need (PostgreSQL's server binaries via apt-get when missing).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install demo test lint postgres-server clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)

# The test suite starts its own throwaway PostgreSQL with initdb/pg_ctl; it needs the binaries.
postgres-server:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
		{ echo "installing PostgreSQL server binaries"; $(SUDO) apt-get update -q && \
		  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; }

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: install postgres-server lint
	$(BIN)/pytest

demo: install
	$(BIN)/driftline up

clean:
	rm -rf $(VENV) .driftline .pytest_cache .mypy_cache .ruff_cache

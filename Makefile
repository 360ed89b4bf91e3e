# Driftline: `make demo` starts the service on the embedded default, `make test` runs every check.
# Both work from a fresh clone on Debian with Python 3.11: they create .venv and install what
# they need (PostgreSQL's server binaries and Chromium via apt-get when missing).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The SDK's own tests run in a venv holding only the SDK, proving it needs nothing else.
SDK_VENV := .venv-sdk
SDK_STAMP := $(SDK_VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install demo test test-sdk lint postgres-server chromium prometheus observability clean

$(STAMP): pyproject.toml sdk/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e './sdk[kafka]'
	touch $@

$(SDK_STAMP): sdk/pyproject.toml
	test -x $(SDK_VENV)/bin/python || $(PYTHON) -m venv $(SDK_VENV)
	$(SDK_VENV)/bin/python -m pip install --quiet -e './sdk[test]'
	touch $@

install: $(STAMP)

# The test suite starts its own throwaway PostgreSQL with initdb/pg_ctl; it needs the binaries.
postgres-server:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
		{ echo "installing PostgreSQL server binaries"; $(SUDO) apt-get update -q && \
		  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; }

# The report test renders a run's HTML report in headless Chromium (Debian's package).
chromium:
	@command -v chromium >/dev/null 2>&1 || \
		{ echo "installing Chromium"; $(SUDO) apt-get update -q && \
		  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

# Prometheus and promtool (Debian's package) check the rules and run the metrics acceptance test.
prometheus:
	@command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || \
		{ echo "installing Prometheus"; $(SUDO) apt-get update -q && \
		  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		  --no-install-recommends prometheus; }

# Dashboards JSON current with the code; Prometheus config and rules valid, rule unit tests pass.
observability: install prometheus
	$(BIN)/driftline dashboards build --check
	promtool check config prometheus/prometheus.yml
	promtool check rules prometheus/rules/driftline.rules.yml
	promtool test rules prometheus/rules/driftline.rules.test.yml

lint: install
	$(BIN)/ruff check . sdk
	$(BIN)/ruff format --check . sdk
	$(BIN)/mypy
	$(BIN)/mypy sdk/driftline_sdk
	$(BIN)/lint-imports

test-sdk: $(SDK_STAMP)
	cd sdk && ../$(SDK_VENV)/bin/python -m pytest --doctest-modules driftline_sdk tests \
		--ignore=driftline_sdk/integrations  # these import their frameworks; tested in tests/

# Two workers: most long tests wait on a broker, a server or a subprocess, so they overlap well
# even on 2 cores. Each worker starts its own PostgreSQL and brokers; a file stays on one worker
# so its module fixtures start once. PYTEST_ARGS= runs everything in one process.
PYTEST_ARGS ?= -n 2 --dist loadfile

test: install postgres-server chromium prometheus lint observability test-sdk
	$(BIN)/pytest $(PYTEST_ARGS)

demo: install
	$(BIN)/driftline demo $(DEMO_ARGS)

clean:
	rm -rf $(VENV) $(SDK_VENV) .driftline .pytest_cache .mypy_cache .ruff_cache

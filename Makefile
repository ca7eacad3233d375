# `make run`  serves the demo plant at http://127.0.0.1:$(PORT)/ (Ctrl-C stops all of it).
# `make test` runs every test: unit, integration (real Redis, Celery, simulator) and browser.
# Both set everything up first, on a fresh Debian machine, with nothing installed by hand.
# `make test-fast` runs the unit lane alone: no test that starts a process (marker `process`).
# `make serve WINCC_CONFIG=... ENV_FILE=...` runs a real installation (docs/install.md).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
CI ?=
CHROMIUM := /usr/bin/chromium
# Waits for the package lock rather than failing when another install is running.
APT_GET := DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -qq

# The demo's API users on the built-in simulator. These values are for the simulator only:
# the demo configuration names these variables, a real plant's configuration names its own.
export WINCC_SIM_RO_USER ?= dashboard-reader
export WINCC_SIM_RO_PASSWORD ?= ro-simulator-only
export WINCC_SIM_RO_TOKEN ?= ro-token-simulator-only
export WINCC_SIM_RW_USER ?= dashboard-operator
export WINCC_SIM_RW_PASSWORD ?= rw-simulator-only
export WINCC_SIM_RW_TOKEN ?= rw-token-simulator-only
export WINCC_SIM_ADMIN_TOKEN ?= admin-token-simulator-only
# The line's simulator posts its changes to the dashboard as a REST Connector with this token.
export WINCC_SIM_LINE_PUSH_TOKEN ?= line-push-token-simulator-only
SIM_VARIABLES := WINCC_SIM_RO_USER WINCC_SIM_RO_PASSWORD WINCC_SIM_RO_TOKEN WINCC_SIM_RW_USER \
  WINCC_SIM_RW_PASSWORD WINCC_SIM_RW_TOKEN WINCC_SIM_ADMIN_TOKEN WINCC_SIM_LINE_PUSH_TOKEN

# The private redis-server runs only when no REDIS_URL is given.
RUN_PROCESSES := $(if $(REDIS_URL),,redis) sim-oven sim-line sim-utilities web worker beat subscriber

# ensure_package(command, debian package, what it is for): install it when missing.
# As root with apt-get it is installed; otherwise a plain sentence says how, and make stops.
define ensure_package
	$(call ensure_required,command -v $(1) >/dev/null 2>&1,$(2),$(3))
endef

# ensure_required(check, debian packages, what they are for): as ensure_package, for a check
# other than a command (header files).
define ensure_required
	@if ! { $(1); }; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's $(2) ($(3))..."; \
	    $(APT_GET) update; \
	    $(APT_GET) install -y --no-install-recommends $(2); \
	  else \
	    echo "$(2) is missing; $(3) needs it. Install it with: sudo apt-get install $(2)"; \
	    exit 1; \
	  fi; \
	fi
endef

# ensure_optional(check, debian package, what it is for): install it when the check fails.
# Without root its tests are skipped, with a sentence; with CI=true a missing one fails.
define ensure_optional
	@if ! { $(1); }; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's $(2) ($(3))..."; \
	    $(APT_GET) update; \
	    $(APT_GET) install -y --no-install-recommends $(2); \
	  elif [ "$(CI)" = true ]; then \
	    echo "$(2) is missing and cannot be installed (not root); CI needs it for $(3)."; exit 1; \
	  else \
	    echo "$(2) is missing: $(3) will be skipped."; \
	    echo "Install it with: sudo apt-get install $(2)"; \
	  fi; \
	fi
endef

.PHONY: help setup messages gettext run serve demo-api-token test test-fast test-faults test-postgres check lint redis-server \
  chromium nginx mosquitto promtool ldap-headers slapd

help:
	@echo "make run    serve the demo at http://127.0.0.1:$(PORT)/ (users viewer, operator, admin)"
	@echo "make test   run every test (installs Redis, Chromium and slapd when missing, as root)"
	@echo "make test-fast  the unit lane: the tests that start no process (seconds)"
	@echo "make test-faults  the fault suite alone (docs/reliability.md)"
	@echo "make test-postgres  the database tests on PostgreSQL (127.0.0.1:5432 by default)"
	@echo "make serve WINCC_CONFIG=... ENV_FILE=...  your own plant: web, worker, beat (docs/install.md)"
	@echo "make check  validate the configuration (WINCC_CONFIG) and the settings"
	@echo "make lint   ruff and mypy"

# The virtual environment, reinstalled only when pyproject.toml changes; the translation
# catalogues compiled (docs/languages.md).
setup: $(STAMP) messages

# Each catalogue (locale/**/django.po) compiled to its .mo when the .po is newer; msgfmt
# --check refuses a translation whose placeholders do not match the English.
PO_FILES := $(shell find locale -name '*.po' 2>/dev/null)
messages: $(PO_FILES:.po=.mo)

%.mo: %.po | gettext
	msgfmt --check -o $@ $<

gettext:
	$(call ensure_required,command -v msgfmt >/dev/null 2>&1,gettext,compiling the German catalogue)

$(STAMP): pyproject.toml | ldap-headers
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "Python 3.11 or newer is needed; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)."; \
	  echo "Install it, or name one with: make PYTHON=/path/to/python3.11 ..."; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[sim,test,ldap]'
	@touch $@

# python-ldap (the ldap extra: LDAP / Active Directory sign-in) is compiled against OpenLDAP's
# and Cyrus SASL's headers, with Python's own.
LDAP_BUILD_CHECK = [ -f /usr/include/ldap.h ] && [ -f /usr/include/sasl/sasl.h ] \
  && command -v gcc >/dev/null 2>&1 \
  && [ -f "$$($(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["include"])')/Python.h" ]
ldap-headers:
	$(call ensure_required,$(LDAP_BUILD_CHECK),libldap2-dev libsasl2-dev gcc python3-dev,building python-ldap (LDAP sign-in))

# The LDAP sign-in tests start their own slapd on a free port (tests/harness/slapd.py).
slapd:
	$(call ensure_optional,[ -x /usr/sbin/slapd ] && command -v ldapadd >/dev/null 2>&1,slapd ldap-utils,the LDAP sign-in tests)

redis-server:
	$(call ensure_package,redis-server,redis-server,the demo's private Redis (or set REDIS_URL))

# The integration tests start their own broker on a free port (tests/harness/mosquitto.py).
mosquitto:
	$(call ensure_package,mosquitto,mosquitto,the MQTT tests' private broker)

chromium:
	$(call ensure_optional,[ -x $(CHROMIUM) ],chromium,the browser tests)

# The reverse proxy example (deploy/nginx/) is tested with a real nginx when there is one.
nginx:
	$(call ensure_optional,command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ],nginx-light,the reverse proxy example's tests)

# The Prometheus examples (deploy/prometheus/) are checked with promtool when there is one
# (Debian's prometheus package brings it; its server is not started).
promtool:
	$(call ensure_optional,command -v promtool >/dev/null 2>&1,prometheus,the Prometheus examples' checks)

# A real installation in the foreground, with no demo part: no simulator, no demo users, no
# private Redis, none of the simulator's variables. wdash reads ENV_FILE (KEY=VALUE lines,
# deploy/systemd/env.example); WINCC_CONFIG given here wins over the file's.
serve: setup
	env $(foreach name,$(SIM_VARIABLES),-u $(name)) $(BIN)/wdash serve \
	  $(if $(ENV_FILE),--env-file "$(ENV_FILE)") --bind "127.0.0.1:$(PORT)"

run: export WDASH_DEMO := 1
run: export DEMO_PASSWORD ?= demo
run: export WDASH_WEB_PORT := $(PORT)
run: export LOG_LEVEL ?= WARNING
run: setup $(if $(REDIS_URL),,redis-server)
	@if [ -n "$(WINCC_CONFIG)" ]; then echo "make run is the demo whatever WINCC_CONFIG says:" \
	  "simulators, demo users with a known password, relaxed cookies." \
	  "Your own plant: make serve (docs/install.md)."; fi
	$(BIN)/python -m dashboard.demo.prepare --check-ports
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py demo_setup
	@echo "Serving the demo at http://127.0.0.1:$(PORT)/ - Ctrl-C stops every process."
	@echo "(LOG_LEVEL=INFO make run shows every poll.)"
	@echo "An API token for /api/v1/ (viewer's rights, docs/api.md): make demo-api-token"
	PATH="$(BIN):$$PATH" exec $(BIN)/honcho --procfile Procfile --env var/run.env \
	  start $(RUN_PROCESSES)

# A token of the read-only API for the running demo, printed once (docs/api.md).
demo-api-token: export WDASH_DEMO := 1
demo-api-token: setup
	$(BIN)/python manage.py apitoken create "Demo script" --owner viewer

# Most of the suite waits on processes (polls, simulators, a browser): pytest-xdist's workers
# overlap those waits, each with its own Redis, simulator and database. A test file goes to one
# worker (its module fixtures start once), files in the tests' order, not the largest first:
# the browser files stay last in their worker (tests/conftest.py). One process by default:
# on two workers the pytest lane takes about 15 min instead of 21 on two cores, but in CI runs
# a timing-bound test failed now and then beside the other worker's load (each passed alone);
# TEST_WORKERS=2 runs it on two.
TEST_WORKERS ?= 0
PARALLEL := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder)

# pytest's exit code 5 means it collected no test: that fails too, with a sentence.
test: setup lint redis-server mosquitto chromium nginx promtool slapd
	CI="$(CI)" $(BIN)/pytest $(PARALLEL) $(PYTEST_ARGS) || { status=$$?; \
	  if [ $$status = 5 ]; then echo "pytest collected no tests: failing."; fi; exit $$status; }
	CI="$(CI)" $(BIN)/python -m tests.postgres $(PARALLEL) $(PYTEST_ARGS)

# The database tests alone, on the PostgreSQL of WDASH_TEST_POSTGRES_URL (tests/postgres.py).
test-postgres: setup redis-server
	CI="$(CI)" $(BIN)/python -m tests.postgres $(PARALLEL) $(PYTEST_ARGS)

# The unit lane needs neither Redis nor Chromium; a test in it that starts a process fails.
test-fast: setup
	CI="$(CI)" $(BIN)/pytest -m "not process" $(PYTEST_ARGS) || { status=$$?; \
	  if [ $$status = 5 ]; then echo "pytest collected no tests: failing."; fi; exit $$status; }

# The fault suite alone; FAULTS_REPORT=docs/reliability-table.md also writes its table there.
test-faults: setup redis-server
	WDASH_FAULTS_REPORT="$(FAULTS_REPORT)" CI="$(CI)" $(BIN)/pytest -m fault $(PYTEST_ARGS)

# Without WINCC_CONFIG this checks the demo's configuration, whose certificates prepare makes.
check: setup
ifeq ($(WINCC_CONFIG),)
	$(BIN)/python -m dashboard.demo.prepare >/dev/null
	WDASH_DEMO=1 $(BIN)/python manage.py check
else
	$(BIN)/python manage.py check
endif

# mypy's time is printed: a slow type check is one people stop running.
lint: setup
	$(BIN)/ruff check .
	TIMEFORMAT="mypy took %1Rs"; time $(BIN)/mypy

# `make bench` (the benchmarks in bench/, results in docs/benchmarks.md) belongs here.
.PHONY: bench
# Every benchmark on this machine (bench/README.md), a dated section appended to
# docs/benchmarks.md. BENCH_ARGS="--quick" for a smoke run, "--only p2,p3" for a selection.
bench: setup redis-server chromium
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[sim,test,bench]'
	BENCH_COMMAND="make bench$(if $(BENCH_ARGS), BENCH_ARGS='$(BENCH_ARGS)')" \
	  $(BIN)/python -m bench $(BENCH_ARGS)

# Amazon channel connector: local development, tests and deployment helpers.
# `make run` plays the whole scenario on the embedded local stack; `make test` runs every test.

SHELL := /bin/bash
PYTHON ?= $(shell scripts/find-python.sh)
VENV := .venv
TOOLS_VENV := .venv-tools
PY := $(VENV)/bin/python
ARCH ?= arm64

.DEFAULT_GOAL := help
.PHONY: help venv tools test test-now test-year-ahead lint typecheck unit integration e2e serve run invoke redrive validate build clean

help:
	@echo "make run        set up and play the whole scenario on the local stack"
	@echo "make test       lint, type check, every test, and the unit and integration tests a year ahead (CI)"
	@echo "make serve      run the local stack in the foreground (API :3000, SP-API simulator :8100, moto :5000)"
	@echo "make invoke     FUNCTION=<LogicalId> EVENT=events/<file>.json against the running stack"
	@echo "make redrive    QUEUE=<dead-letter queue> back to its source queue: the running stack, or STACK=<name> on AWS"
	@echo "make validate   cfn-lint and sam validate --lint"
	@echo "make checkov    checkov over template.yaml (its own virtualenv); waivers live in the template"
	@echo "make build      sam build (ARCH=$(ARCH))"
	@echo "make bench      the workers over moto and the simulator: calls, simulated seconds, CPU, RSS, DynamoDB capacity (bench/README.md)"
	@echo "make browser    install Chromium and its driver for the console's browser tests (Debian/Ubuntu, as root)"

$(VENV)/.installed: requirements-dev.txt layers/common/requirements.txt
	@test -n "$(PYTHON)" || { echo "Python 3.13 is required (see scripts/find-python.sh)." >&2; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed

$(TOOLS_VENV)/.installed: requirements-tools.txt
	@test -n "$(PYTHON)" || { echo "Python 3.13 is required (see scripts/find-python.sh)." >&2; exit 1; }
	@test -x $(TOOLS_VENV)/bin/python || $(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS_VENV)/bin/python -m pip install --quiet -r requirements-tools.txt
	@touch $@

tools: $(TOOLS_VENV)/.installed

# lint-imports checks the dependency rule (pyproject.toml [tool.importlinter], README "Architecture").
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	PYTHONPATH=layers/common $(VENV)/bin/lint-imports --no-logo

typecheck: venv
	$(VENV)/bin/mypy layers/common/oms_amazon functions local bench scripts fakes

# pytest-xdist workers, one test file each at a time. The whole suite gets three: its local-stack
# files mostly wait on their queues and Amazon's simulated clock, so on 2 cores a third worker still
# shortens it; the in-process year-ahead pass computes, and two are enough (TEST_WORKERS=1 SUITE_WORKERS=1
# for one each).
TEST_WORKERS ?= 2
SUITE_WORKERS ?= 3
xdist = $(if $(filter-out 0 1,$(1)),-n $(1) --dist loadfile)
XDIST := $(call xdist,$(TEST_WORKERS))

# Lint, type check, every test, and the unit and integration tests again with every clock a year
# ahead, so a date written into a test fails the day it is written (tests/README.md). The four run at
# once: the local-stack tests mostly wait, and the checks and the year-ahead pass fill that time. Each
# prints its output when it ends; any one failing fails `make test`.
test: venv
	@echo "make test: lint, typecheck, test-now and test-year-ahead run at once; each prints its output when it ends"
	@$(MAKE) --no-print-directory -j4 --output-sync=target lint typecheck test-now test-year-ahead

test-now: venv
	$(PY) -m pytest $(call xdist,$(SUITE_WORKERS))

test-year-ahead: venv
	OMS_TEST_CLOCK_SHIFT_DAYS=365 $(PY) -m pytest $(XDIST) -q -m "unit or integration"

unit: venv
	$(PY) -m pytest -m unit

integration: venv
	$(PY) -m pytest -m integration

e2e: venv
	$(PY) -m pytest -m e2e

serve: venv
	$(PY) -m local serve

run: venv
	$(PY) -m local run

invoke: venv
	@test -n "$(FUNCTION)" -a -n "$(EVENT)" || { echo "usage: make invoke FUNCTION=<LogicalId> EVENT=events/<file>.json" >&2; exit 2; }
	$(PY) -m local invoke --function $(FUNCTION) --event $(EVENT)

# A dead-letter queue's messages back to the queue they failed on (README "When a dead-letter alarm
# fires"). QUEUE: logical id (StockSyncDLQ), name or URL. STACK=<stack name>: AWS, with the usual
# credentials and region (SQS's message move task); without it, the local stack `make serve` runs.
redrive: venv
	@test -n "$(QUEUE)" || { echo "usage: make redrive QUEUE=<dead-letter queue> [STACK=<stack name> for AWS]" >&2; exit 2; }
	$(PY) -m scripts.redrive --queue "$(QUEUE)" $(if $(STACK),--stack "$(STACK)")

validate: tools
	$(TOOLS_VENV)/bin/cfn-lint template.yaml
	$(TOOLS_VENV)/bin/sam validate --lint

# checkov over the template, offline, in a virtualenv of its own (it pins its own boto3 and pydantic).
# Any failed check fails the target: each one is fixed or waived in template.yaml with its reason
# (Metadata: checkov: skip: [{id, comment}]). Open-source checkov gives no severities offline.
CHECKOV_VENV := .venv-checkov
$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	@test -n "$(PYTHON)" || { echo "Python 3.13 is required (see scripts/find-python.sh)." >&2; exit 1; }
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	@touch $@

.PHONY: checkov
checkov: $(CHECKOV_VENV)/.installed
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --skip-download --compact --quiet

# sam build looks for `python3.13` on PATH (a pyenv shim that is not selected fails its check): put the
# interpreter scripts/find-python.sh found first. ARCH also picks the layer's wheels (layers/common/Makefile),
# which sam's build cache does not know: one cache per architecture.
build: tools
	PATH="$(dir $(PYTHON)):$$PATH" ARCH=$(ARCH) $(TOOLS_VENV)/bin/sam build --cache-dir .aws-sam/cache/$(ARCH) \
		--parameter-overrides Architecture=$(ARCH)

# SP-API calls and simulated Amazon seconds beside a naive connector and the lower bound, cold imports,
# layer size: a table on stdout and bench/results.json (bench/README.md). Not part of `make test`.
.PHONY: bench
bench: venv
	ARCH=$(ARCH) $(PY) -m bench

# The console's browser tests (tests/browser) drive Debian's Chromium through its chromedriver. Installs them
# when missing (apt-get, so as root on Debian or Ubuntu; .ci/run calls it); without them those tests skip.
.PHONY: browser
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then \
		echo "Chromium and chromedriver are installed."; \
	else \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	fi

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .import_linter_cache

# Café Compute — every target bootstraps the pinned venv it needs; `make help` lists them.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Local runtime settings (documented in the README); override on the command line or in the env.
# The runtimes' commands, ports and run options have one source: compare/local/runtimes.py.
export CAFE_STORE ?= sqlite
export CAFE_SQLITE_PATH ?= $(CURDIR)/var/cafe.sqlite3
# PORT=N runs a run-* target on another port than its default (lambda 8001, fargate 8002, ec2 8003).
PORT ?=
RUN_LOCAL = $(BIN)/python -m compare.local

# Several make processes may start at once: one installs, the others wait on the lock and then
# find the stamp fresh. The runtime's whole closure is held to its lock (what the instance
# installs), so a fresh machine gets the same botocore as the EC2 unit, not today's newest.
$(STAMP): requirements/runtime.txt requirements/runtime-lock.txt requirements/dev.txt shared/pyproject.toml
	@flock $(VENV).lock bash -euc '\
	  if [ -f $@ ] && [ -z "$$(find $^ -newer $@)" ]; then exit 0; fi; \
	  test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); \
	  echo "installing the pinned venv ($(VENV))..." >&2; \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt -c requirements/runtime-lock.txt -e shared; \
	  touch $@'

.PHONY: help  ## list the targets
help:
	@if [ -t 1 ] && [ -z "$${NO_COLOR:-}" ]; then on=$$'\033[36m'; off=$$'\033[0m'; else on=; off=; fi; \
	grep -hE '^\.PHONY: [a-zA-Z0-9_-]+ +## ' $(MAKEFILE_LIST) | \
	  sed -E 's/^\.PHONY: ([a-zA-Z0-9_-]+) +## (.*)/\1\t\2/' | \
	  awk -F'\t' -v on="$$on" -v off="$$off" '{printf "  %s%-18s%s %s\n", on, $$1, off, $$2}'

.PHONY: setup  ## create the pinned venv (.venv) with the shared package installed editable
setup: $(STAMP)

var:
	mkdir -p var

.PHONY: run-lambda  ## serve the Chalice app through the local Lambda (awslambdaric environments) on :8001
run-lambda: $(STAMP) | var
	$(RUN_LOCAL) lambda $(if $(PORT),--port $(PORT))

.PHONY: run-fargate  ## run the container's own entry command natively on :8002
run-fargate: $(STAMP) | var
	$(RUN_LOCAL) fargate $(if $(PORT),--port $(PORT))

.PHONY: run-fargate-docker  ## build the container image and run it on :8002 (needs a Docker engine)
run-fargate-docker: $(STAMP) | var
	@docker info >/dev/null 2>&1 || { echo "no Docker engine here: use make run-fargate (the image's own CMD, natively)" >&2; exit 2; }
	docker build -f fargate/Dockerfile -t cafe-fargate:local .
	# The same SQLite file as the other local runtimes, mounted; run as the file's owner.
	port="$${PORT:-$$($(BIN)/python -c 'from compare.local.runtimes import DEFAULT_PORTS; print(DEFAULT_PORTS["fargate"])')}"; \
	docker run --rm -p "127.0.0.1:$$port:8080" -e PORT=8080 --user "$$(id -u):$$(id -g)" \
	  -v "$(CURDIR)/var:/data" -e CAFE_STORE=sqlite -e CAFE_SQLITE_PATH=/data/cafe.sqlite3 \
	  -e CAFE_STAFF_TOKEN cafe-fargate:local

.PHONY: run-ec2  ## run the systemd unit's command (gunicorn, one worker per vCPU) on :8003
run-ec2: $(STAMP) | var
	$(RUN_LOCAL) ec2 $(if $(PORT),--port $(PORT))

.PHONY: up  ## start all three runtimes in the background on one SQLite file; waits for /health
up: $(STAMP) | var
	$(BIN)/python -m devtools.local up

.PHONY: down  ## stop exactly the processes `make up` started
down: $(STAMP)
	$(BIN)/python -m devtools.local down

.PHONY: test  ## run the whole test suite (unit, contract, API, live, deploy, browser)
test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto

.PHONY: lint  ## ruff on everything, mypy strict on shared/cafe, compare, infra and devtools
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict shared/cafe compare infra devtools

.PHONY: bench  ## the ordering core's benchmarks: Lambda cold init vs a bare handler, container throughput (needs wrk), the café's own CPU per request in-process, DynamoDB round trips + CPU per operation, live push (bench-push)
bench: $(STAMP)
	$(BIN)/python bench/cold_init.py --samples 40
	$(BIN)/python bench/throughput.py --seconds 4 --rounds 6
	$(BIN)/python bench/inprocess.py --batches 40
	$(BIN)/python bench/dynamodb_path.py --requests 40 --rounds 3
	$(BIN)/python bench/push.py $(BENCH_PUSH_ARGS)

# Extra options for bench/push.py, e.g. BENCH_PUSH_ARGS="--runtimes fargate --rounds 1 --idle 0".
BENCH_PUSH_ARGS ?=

.PHONY: bench-push  ## live push in the deployed envelopes: change → subscriber delay p50/p99 with 1,000 subscribers, 5,000 idle on the Fargate task (KiB each), order p99 with ÷ without them
bench-push: $(STAMP)
	$(BIN)/python bench/push.py $(BENCH_PUSH_ARGS)

-include $(wildcard mk/*.mk)

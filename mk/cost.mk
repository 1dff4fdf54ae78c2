# Cost model (compare/cost/): what Lambda, Fargate and EC2 cost for a workload profile.
# docs/cost-model.md explains the model, its assumptions and the provenance labels.
PROFILE ?= compare/cost/profiles/small-cafe.json
COST_CHART ?= reports/cost/breakeven.png
# MODE=push|polling prices the pages following a stream or polling; unset: the profile's own mode.
MODE ?=
COST_MODE = $(if $(MODE),--mode $(MODE))

# `make cost` must print nothing but the JSON document on stdout, so the venv bootstrap runs as a
# silent sub-make whose output goes to stderr (a plain $(STAMP) prerequisite would echo pip's
# commands to stdout). Run it from the repo root: `make -C dir` prints "Entering directory" itself.
.PHONY: cost  ## price PROFILE (default: small café) per runtime in MODE (push|polling; default: the profile's); prints exactly one JSON document
cost:
	@$(MAKE) --no-print-directory -s $(STAMP) >&2
	@$(BIN)/python -m compare.cost $(PROFILE) $(COST_MODE)

.PHONY: cost-chart  ## write the break-even chart of PROFILE to COST_CHART (reports/cost/breakeven.png)
cost-chart: $(STAMP)
	$(BIN)/python -m compare.cost $(PROFILE) $(COST_MODE) --chart $(COST_CHART) > $(basename $(COST_CHART)).json
	@echo "wrote $(COST_CHART) and $(basename $(COST_CHART)).json" >&2

.PHONY: refresh-prices  ## pull AWS Price List API prices into a new snapshot (needs real AWS credentials)
refresh-prices: $(STAMP)
	$(BIN)/python -m compare.cost refresh

# A café's day (compare/day/): one business day of PROFILE simulated on each runtime as deployed.
# PROFILE comes from mk/cost.mk (default: the small café). DAY_OUT: where the chart goes.
DAY_OUT ?= reports/day-$(shell date -u +%Y%m%d-%H%M%S)
DAY_ARGS ?=

# Like `make cost`, stdout carries nothing but the JSON document: the venv bootstrap goes to stderr.
.PHONY: day  ## simulate one business day of PROFILE on each runtime; prints one JSON document, writes the chart to DAY_OUT
day: $(STAMP)
	@$(BIN)/python -m compare.day $(PROFILE) --out $(DAY_OUT) $(DAY_ARGS)

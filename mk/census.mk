# Traffic census (compare/census/): the pages' own requests counted in headless Chromium against a
# local runtime, written to compare/cost/census.json (checked in; the cost model reads it).
# Needs Debian's chromium (CAFE_CHROMIUM overrides the path), as the browser tests do.
.PHONY: census  ## count every request the customer, barista and board pages make; writes compare/cost/census.json
census: $(STAMP)
	$(BIN)/python -m compare.census

# Traffic census (compare/census/): the pages' own requests counted in headless Chromium against a
# local runtime, polling (push unavailable) and following its stream (push), written to
# compare/cost/census.json (checked in; the cost model reads it).
# Needs Debian's chromium (CAFE_CHROMIUM overrides the path), as the browser tests do.
.PHONY: census  ## count every request (and, by push, every stream and message) the customer, barista and board pages make, polling and by push; writes compare/cost/census.json
census: $(STAMP)
	$(BIN)/python -m compare.census

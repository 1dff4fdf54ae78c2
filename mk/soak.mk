# Soak (not part of make test): the café mix for many minutes against each local runtime.
SOAK_MINUTES ?= 10
SOAK_RATE ?= 20

.PHONY: soak  ## the café mix for SOAK_MINUTES (10) per runtime, all three at once: RSS, fds, errors, p99 per minute
soak: $(STAMP)
	$(BIN)/python bench/soak.py --minutes $(SOAK_MINUTES) --rate $(SOAK_RATE) --json var/soak.json

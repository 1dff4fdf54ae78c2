# Latency comparison (compare/): the project's main job. COMPARE_ARGS passes extra options, e.g.
#   make compare COMPARE_ARGS="--rates 50,100 --step-s 2"
COMPARE_ARGS ?=

.PHONY: compare  ## latency side by side: start the 3 runtimes locally, drive the café mix, write reports/<timestamp>/
compare: $(STAMP)
	COMPARE_COMMAND="make compare $(if $(COMPARE_ARGS),COMPARE_ARGS=\"$(COMPARE_ARGS)\")" \
	  $(BIN)/python -m compare run $(COMPARE_ARGS)

.PHONY: compare-remote  ## the same workload against deployed endpoints (build/outputs/*.json or COMPARE_ARGS="--target name=URL")
compare-remote: $(STAMP)
	COMPARE_COMMAND="make compare-remote" $(BIN)/python -m compare run --remote $(COMPARE_ARGS)

# Two runs side by side: make diff A=reports/<earlier> B=reports/<later>
.PHONY: diff  ## what changed between two comparison runs (A=, B= report dirs): figures, versions, machine, git; noise marked
diff: $(STAMP)
	@test -n "$(A)" -a -n "$(B)" || { echo "usage: make diff A=reports/<earlier> B=reports/<later>" >&2; exit 2; }
	$(BIN)/python -m compare diff "$(A)" "$(B)"

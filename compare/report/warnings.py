"""What must stop a reader before any figure: runtimes that ran uncapped, a load generator that
fell behind, latency that is local. Shared by the report and the printed summary."""

from __future__ import annotations

from compare.results import RunResults


def uncapped(results: RunResults) -> list[str]:
    """Runtimes whose envelope could not be enforced (their figures were taken without limits)."""
    return [n for n, e in results.runtimes.items() if e.envelope is not None and not e.envelope.enforced]


def no_envelope(results: RunResults) -> list[str]:
    """Runtimes with no envelope recorded at all (an older run, or remote mode)."""
    return [n for n, e in results.runtimes.items() if e.envelope is None]


def uncapped_warning(results: RunResults) -> str | None:
    names = uncapped(results)
    if not names:
        return None
    how = {e.mechanism for n in names if (e := results.runtimes[n].envelope) is not None}
    return (
        f"**The runtimes ran uncapped: {', '.join(names)} could not be held to their deployed "
        f"resource envelope (mechanism: {', '.join(sorted(how))}), so their figures were taken with "
        "the whole machine available — faster and less comparable than as deployed.**"
    )


def generator_warning(results: RunResults) -> str | None:
    gen = results.generator
    if gen is None or gen.kept_up is not False:
        return None
    checked = f" at {gen.checked_rate_rps:g} req/s" if gen.checked_rate_rps else ""
    affected = "; ".join(gen.affected) or "every figure at the highest rates"
    return (
        f"**The load generator did not keep up{checked} (2× the highest rate used, {gen.source}): "
        f"these figures are affected and marked ⚠: {affected}.**"
    )


def generator_state(results: RunResults) -> tuple[bool | None, str]:
    """Whether the load generator kept up with the rates this run used, in one sentence: the one
    answer the headroom section, the generator record and the printed summary all give.

    The headroom check drives a trivial server at 2× the highest rate the run would use. Falling
    behind there is not the last word: the run then drops every step above half of what the
    generator achieved, and the generator record (`results.generator.kept_up`) says whether the
    rates actually used — the reference rate and the steps kept — stayed within that half."""
    h, gen = results.headroom, results.generator
    if gen is None and h is None:
        return None, "was not checked"
    if gen is not None and gen.kept_up is None:
        return None, "was not checked"
    kept = gen.kept_up if gen is not None else bool(h and h.kept_up)
    if h is None:
        assert gen is not None
        checked = f" at {gen.checked_rate_rps:g} req/s" if gen.checked_rate_rps else ""
        return kept, ("kept up" if kept else "did not keep up") + f"{checked} (2× the highest rate used)"
    if h.kept_up:
        return (
            True,
            f"kept up: at {h.rate_rps:g} req/s, 2× the highest rate used, "
            f"it achieved {h.achieved_rps:.0f} req/s",
        )
    behind = f"fell behind at {h.rate_rps:g} req/s (achieved {h.achieved_rps:.0f} req/s)"
    if not kept:
        return False, f"did not keep up: it {behind}, and the run used rates above half of that"
    dropped = [a.split(" (", 1)[0] for a in (gen.affected if gen is not None else ()) if "not measured" in a]
    cut = f"; dropped: {', '.join(dropped)}" if dropped else ""
    return True, (
        f"kept up with every rate the run used: it {behind}, so the run used only rates up to half "
        f"of that, {h.achieved_rps / 2:.0f} req/s{cut}"
    )


def local_latency_warning(results: RunResults) -> str:
    return (
        f"**Local latency is not an AWS figure.** This run has no AWS projection for every runtime, so "
        f"the latency claims below rest on figures {results.source}: compare their shapes, not their "
        "milliseconds, with what customers would see on AWS."
    )


def is_affected(results: RunResults, runtime: str, figure: str) -> bool:
    """Whether the generator record names this runtime's figure (e.g. 'p99', 'sustainable') as
    affected: an entry naming the figure and the runtime, or the figure and no runtime at all."""
    gen = results.generator
    if gen is None or gen.kept_up is not False:
        return False
    for entry in gen.affected:
        text = entry.lower()
        if figure.lower() not in text:
            continue
        named = [n for n in results.runtimes if n in text]
        if not named or runtime in named:
            return True
    return False


def mark(results: RunResults, runtime: str, figure: str, text: str) -> str:
    """`text` with ⚠ when the generator falling behind affects it."""
    return f"{text} ⚠" if is_affected(results, runtime, figure) else text

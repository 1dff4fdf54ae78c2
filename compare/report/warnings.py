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

"""Recommendation: the cheapest runtime whose p99 meets the SLO, with the reason in one sentence.

A runtime with no p99 input cannot be shown to meet an SLO, so it is left out rather than assumed
fast; the sentence says where each latency figure came from, and `inputs` lists every p99 used with
its source. From a comparison run the p99s are the AWS projection where the run has one
("projected"), else the local figure, said to be local.
"""

from __future__ import annotations

from typing import Any

NAMES = {"lambda": "Lambda", "fargate": "Fargate", "ec2": "EC2"}


def _source(label: str) -> str:
    """A local measurement is said to be local: it is not an AWS figure."""
    return "measured here, not on AWS" if label == "measured here" else label


def _basis(inputs: list[dict[str, Any]]) -> str:
    """The latency inputs in a few words: 'projected for Lambda, Fargate, EC2' or a mix."""
    by_source: dict[str, list[str]] = {}
    for i in inputs:
        by_source.setdefault(str(i["source"]), []).append(NAMES.get(i["runtime"], i["runtime"]))
    return "; ".join(f"{source} for {', '.join(names)}" for source, names in by_source.items()) or "none"


def recommend(
    monthly_usd: dict[str, float],
    p99_ms: dict[str, float],
    slo_p99_ms: float | None,
    p99_labels: dict[str, str],
) -> dict[str, Any]:
    p99_labels = {r: _source(label) for r, label in p99_labels.items()}
    by_cost = sorted(monthly_usd, key=lambda r: monthly_usd[r])
    inputs = [
        {"runtime": r, "p99_ms": p99_ms[r], "source": p99_labels.get(r, "profile")}
        for r in by_cost
        if r in p99_ms
    ]
    basis = _basis(inputs)
    others = ", ".join(f"{NAMES[r]} ${monthly_usd[r]:.2f}" for r in by_cost)
    if slo_p99_ms is None:
        best = by_cost[0]
        return {
            "runtime": best,
            "slo_p99_ms": None,
            "meets_slo": None,
            "label": "modeled",
            "inputs": inputs,
            "reason": f"{NAMES[best]} is the cheapest at ${monthly_usd[best]:.2f}/month ({others}); "
            "no p99 SLO was given, so latency was not considered.",
        }
    meeting = [r for r in by_cost if r in p99_ms and p99_ms[r] <= slo_p99_ms]
    unknown = [r for r in by_cost if r not in p99_ms]
    if not meeting:
        known = [r for r in by_cost if r in p99_ms]
        detail = (
            "; ".join(f"{NAMES[r]} p99 {p99_ms[r]:g} ms ({p99_labels[r]})" for r in known) or "no p99 inputs"
        )
        return {
            "runtime": None,
            "slo_p99_ms": slo_p99_ms,
            "meets_slo": False,
            "label": "modeled",
            "unverified": unknown,
            "inputs": inputs,
            "reason": f"No runtime is shown to meet the {slo_p99_ms:g} ms p99 SLO ({detail}).",
        }
    best = meeting[0]
    cheaper_fail = [r for r in by_cost[: by_cost.index(best)] if r not in meeting]
    why_not = ""
    if cheaper_fail:
        parts = [
            f"{NAMES[r]} (p99 {p99_ms[r]:g} ms, {p99_labels[r]})"
            if r in p99_ms
            else f"{NAMES[r]} (no p99 input)"
            for r in cheaper_fail
        ]
        why_not = (
            f", while the cheaper {' and '.join(parts)} {'does' if len(parts) == 1 else 'do'} not qualify"
        )
    return {
        "runtime": best,
        "slo_p99_ms": slo_p99_ms,
        "meets_slo": True,
        "label": "modeled",
        "unverified": unknown,
        "inputs": inputs,
        "reason": (
            f"{NAMES[best]} is the cheapest runtime meeting the {slo_p99_ms:g} ms p99 SLO at "
            f"${monthly_usd[best]:.2f}/month with a p99 of {p99_ms[best]:g} ms ({p99_labels[best]}){why_not}"
            f" (latency inputs: {basis})."
        ),
    }

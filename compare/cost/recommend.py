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


#: Combinations whose monthly total is within this share of the pick's, either way, are "close": a
#: small change of an input could reorder them (the sensitivity section lists them).
CLOSE_SHARE = 0.15
MODE_WORDS = {"push": "push", "polling": "polling"}


def combo_name(runtime: str, mode: str) -> str:
    return f"{NAMES.get(runtime, runtime)} with {MODE_WORDS.get(mode, mode)}"


def recommend_combination(
    combos: list[dict[str, Any]],
    p99_ms: dict[str, float],
    slo_p99_ms: float | None,
    p99_labels: dict[str, str],
    notice_target_ms: float | None,
) -> dict[str, Any]:
    """The cheapest runtime × mode whose request p99 meets the SLO and whose screens show a change
    within the notice-delay target; what polling would cost instead; the combinations close to it.

    ``combos``: one dict per runtime × mode priced, with ``runtime``, ``mode``, ``monthly_usd``
    (the runtime's, with the mode's own DynamoDB and transfer: they differ between the modes),
    ``notice_p99_ms`` and ``notice_screen``."""
    labels = {r: _source(label) for r, label in p99_labels.items()}
    rows = sorted(combos, key=lambda c: float(c["monthly_usd"]))
    for row in rows:
        r = row["runtime"]
        row["meets_slo"] = None if slo_p99_ms is None else (r in p99_ms and p99_ms[r] <= slo_p99_ms)
        if not row.get("keeps_up", True):
            row["meets_notice_target"] = False  # the pusher falls behind: no delay bound at all
        else:
            row["meets_notice_target"] = (
                None if notice_target_ms is None else float(row["notice_p99_ms"]) <= notice_target_ms
            )
    working = [r for r in rows if r["meets_slo"] is not False and r["meets_notice_target"] is not False]
    inputs = [
        {"runtime": r, "p99_ms": p99_ms[r], "source": labels.get(r, "profile")}
        for r in dict.fromkeys(c["runtime"] for c in rows)
        if r in p99_ms
    ]
    target = "" if notice_target_ms is None else f" and the {notice_target_ms:g} ms notice-delay target"
    slo = "" if slo_p99_ms is None else f"the {slo_p99_ms:g} ms p99 SLO"
    meeting = (slo + target).removeprefix(" and ") or "no SLO and no notice target (cost alone)"
    out: dict[str, Any] = {
        "label": "modeled",
        "slo_p99_ms": slo_p99_ms,
        "notice_delay_target_ms": notice_target_ms,
        "inputs": inputs,
        "unverified": [r for r in dict.fromkeys(c["runtime"] for c in rows) if r not in p99_ms],
        "combinations": rows,
    }
    if not working:

        def missed(c: dict[str, Any]) -> str:
            p99 = f"p99 {p99_ms[c['runtime']]:g} ms" if c["runtime"] in p99_ms else "no p99 input"
            return (
                f"{combo_name(c['runtime'], c['mode'])} ${c['monthly_usd']:,.2f} ({p99}, screens "
                f"{c['notice_p99_ms']:,.0f} ms late at p99)"
            )

        return {
            **out,
            "runtime": None,
            "mode": None,
            "meets_slo": False,
            "reason": f"No runtime and mode is shown to meet {meeting}: "
            + ("; ".join(missed(c) for c in rows) or "nothing was priced")
            + ".",
        }
    best = working[0]
    pick = float(best["monthly_usd"])
    for row in rows:
        row["close"] = row is not best and abs(float(row["monthly_usd"]) - pick) <= pick * CLOSE_SHARE
    polling = [r for r in rows if r["mode"] == "polling" and r["meets_slo"] is not False]
    same = next((r for r in rows if r["mode"] == "polling" and r["runtime"] == best["runtime"]), None)
    instead = polling[0] if polling else None
    out.update(
        runtime=best["runtime"],
        mode=best["mode"],
        meets_slo=best["meets_slo"],
        meets_notice_target=best["meets_notice_target"],
        close=[{k: r[k] for k in ("runtime", "mode", "monthly_usd")} for r in rows if r.get("close")],
        polling_instead=None
        if instead is None
        else {
            "runtime": instead["runtime"],
            "monthly_usd": instead["monthly_usd"],
            "notice_p99_ms": instead["notice_p99_ms"],
            "meets_notice_target": instead["meets_notice_target"],
            "same_runtime_monthly_usd": None if same is None else same["monthly_usd"],
        },
    )
    r = best["runtime"]
    latency = f", a request p99 of {p99_ms[r]:g} ms ({labels.get(r, 'profile')})" if r in p99_ms else ""
    said = (
        f"{combo_name(r, best['mode'])} is the cheapest combination meeting {meeting} at "
        f"${best['monthly_usd']:,.2f}/month with DynamoDB and transfer{latency}, its screens showing a "
        f"change within {best['notice_p99_ms']:,.0f} ms at p99 ({best['notice_screen']}, modeled)"
    )
    if instead is not None and best["mode"] != "polling":
        judged = {True: "meets the target", False: "misses the target", None: "no target given"}
        said += (
            f"; polling instead: {combo_name(instead['runtime'], 'polling')} "
            f"${instead['monthly_usd']:,.2f}/month, screens {instead['notice_p99_ms']:,.0f} ms late at "
            f"p99 ({judged[instead['meets_notice_target']]})"
        )
        if same is not None and same is not instead:
            said += f", {NAMES.get(r, r)} polling ${same['monthly_usd']:,.2f}"
    close = [c for c in rows if c.get("close")]
    if close:
        said += f"; close (within {CLOSE_SHARE:.0%}): " + ", ".join(
            f"{combo_name(c['runtime'], c['mode'])} ${c['monthly_usd']:,.2f}" for c in close
        )
    out["reason"] = said + f" (latency inputs: {_basis(inputs)})."
    return out

"""The verdict: which runtime and mode (push or polling) to pick for the profile priced, and why,
in a few tagged sentences.

Built once as data (`Verdict`), written twice: as the report's first section (Markdown, each claim
linked to the section that backs it) and at the top of the printed summary. When the run has an
AWS projection the latency claims rest on it ("projected"); otherwise on the local figures
("measured here") with a warning that local latency is not an AWS figure. What a run did not
record is said, never filled in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compare.load.causes import describe
from compare.report.document import Block, Bullets, Para, Section, anchor
from compare.report.format import ms
from compare.report.format import slo as slo_words
from compare.report.modes import TITLE as MODES_TITLE
from compare.report.steady import TITLE as STEADY
from compare.report.steady import first_minute_text, settling_text, steady_p99
from compare.report.warnings import generator_warning, local_latency_warning, uncapped_warning
from compare.results import AWS_LABEL, MEASURED_HERE, MODELED, RunResults

TITLE = "Verdict"
PROJECTED = "projected"
NAMES = {"lambda": "Lambda", "fargate": "Fargate", "ec2": "EC2"}

# The sections a claim links to (their titles, kept here so a renamed section breaks a test).
COST = "Cost (modeled)"
PROJECTION = "Projected latency on AWS"
LATENCY = "Latency at the reference rate"
CAPACITY = "Capacity"
COLD = "Cold starts"
DAY = "A café's day (modeled)"

HOW_TO_READ = (
    "**How to read the figures.** *Measured here* figures come from this machine, the three runtimes "
    "emulated side by side under the deployed resource envelope: use them for shapes and ratios "
    "(queueing, cold starts, CPU per request), never as AWS latencies. *Projected* latencies are "
    "modeled for AWS from measured inputs: the service time measured here plus the hops each runtime "
    "has on AWS (API Gateway, the load balancer, DynamoDB round trips), each input listed with its "
    "source. *Modeled* figures (the monthly cost, the break-even volumes, the simulated day) come "
    "from the price list and the café's profile. A decision rests on the projected latency and the "
    "modeled cost; the measured-here figures explain them."
)


def name_of(runtime: str) -> str:
    return NAMES.get(runtime, runtime)


@dataclass(frozen=True)
class Claim:
    """One sentence (Markdown-free), where its figures come from, and the section that backs it."""

    text: str
    tag: str
    section: str | None = None

    def markdown(self) -> str:
        link = f"; see [{self.section}](#{anchor(self.section)})" if self.section else ""
        return f"{self.text.removesuffix('.')} *({self.tag}{link})*."

    def plain(self) -> str:
        return f"{self.text.removesuffix('.')} ({self.tag})."


@dataclass(frozen=True)
class Verdict:
    runtime: str | None
    basis: str  # PROJECTED, AWS_LABEL (remote mode) or MEASURED_HERE: what the latency claims rest on
    warnings: list[str] = field(default_factory=list)  # Markdown, bold where they must stop a reader
    claims: list[Claim] = field(default_factory=list)
    differences: list[Claim] = field(default_factory=list)
    changes: list[Claim] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    mode: str | None = None  # how the pages keep current: "push" or "polling" (None: not priced)

    @property
    def pick(self) -> str:
        """The pick in words: "Lambda with push", "EC2" (no mode priced), or "no runtime"."""
        if not self.runtime:
            return "no runtime"
        return name_of(self.runtime) + (f" with {self.mode}" if self.mode else "")


def p99_of(results: RunResults, runtime: str) -> tuple[float, str] | None:
    """The p99 a decision should use: the projection when there is one, else the local figure."""
    entry = results.runtimes[runtime]
    if entry.projection is not None:
        return entry.projection.p99_ms, PROJECTED
    if entry.reference is not None:
        return entry.reference.latency_ms.p99, entry.source
    return None


def _basis(results: RunResults) -> str:
    with_latency = [n for n in results.runtimes if p99_of(results, n) is not None]
    projected = [n for n in with_latency if results.runtimes[n].projection is not None]
    if with_latency and projected == with_latency:
        return PROJECTED
    on_aws = all(results.runtimes[n].source == AWS_LABEL for n in with_latency)
    return AWS_LABEL if with_latency and on_aws else MEASURED_HERE


def _tag(source: str) -> str:
    """A latency's tag: projected, measured on AWS, or (anything local) measured here."""
    return source if source in (PROJECTED, AWS_LABEL) else MEASURED_HERE


def _estimate(results: RunResults) -> dict[str, Any] | None:
    cost = results.cost
    if cost is None or not cost.available or cost.estimate is None:
        return None
    return dict(cost.estimate)


def _pick(results: RunResults, estimate: dict[str, Any] | None) -> tuple[str | None, str]:
    """The runtime to pick and the kind of reason: 'cost' (the cheapest runtime and mode meeting
    the SLO and the notice target) or 'latency'."""
    if estimate is not None:
        chosen = estimate.get("recommendation", {}).get("runtime")
        if chosen in results.runtimes:
            return str(chosen), "cost"
    slo = results.options.slo_p99_ms
    known = {n: p for n in results.runtimes if (p := p99_of(results, n)) is not None}
    meeting = sorted((p[0], n) for n, p in known.items() if p[0] <= slo)
    if meeting:
        return meeting[0][1], "latency"
    if known:
        return min(known, key=lambda n: known[n][0]), "latency"
    return None, "none"


def _profile_name(results: RunResults) -> str:
    base = results.cost.base_profile if results.cost is not None else None
    return Path(base or results.options.cost_profile).stem


def _cold_claim(results: RunResults) -> Claim | None:
    """Lambda's start on the request path against the servers' capacity-ready time."""
    parts: list[str] = []
    tags: set[str] = set()
    for name, entry in results.runtimes.items():
        cold = entry.cold_start
        if name == "lambda" and cold is not None:
            waited = cold.request_path_ms
            if waited is None and cold.init_ms is not None:
                waited = cold.init_ms.median
            if waited is not None:
                parts.append(
                    f"Lambda puts its cold start on the request path: a request that finds no warm "
                    f"environment waits about {ms(waited)} ms for init"
                )
                tags.add(MEASURED_HERE)
        elif cold is not None or entry.aws_capacity_ready is not None:
            ready = entry.aws_capacity_ready
            if ready is not None and ready.seconds is not None:
                # The citations are in the projection section; the verdict names each part's kind.
                parts.append(
                    f"{name_of(name)} adds capacity off the request path, serving about "
                    f"{ready.seconds:g} s after scaling out on AWS ({ready.kinds()})"
                )
                tags.add("sourced")
            elif cold is not None and (cold.capacity_ready_ms or cold.healthy_ms) is not None:
                here = cold.capacity_ready_ms or (cold.healthy_ms.median if cold.healthy_ms else 0.0)
                parts.append(
                    f"{name_of(name)} adds capacity off the request path ({ms(here)} ms process start → "
                    "healthy here; instance boot or image pull on AWS not measured)"
                )
                tags.add(MEASURED_HERE)
    if not parts:
        return None
    tag = MEASURED_HERE if tags == {MEASURED_HERE} else "measured here and sourced"
    return Claim("; ".join(parts) + ".", tag, COLD)


def transient_warnings(results: RunResults) -> list[str]:
    """Every runtime whose reference window was not steady, named, with its steady figure beside:
    the verdict never rests on a transient without saying so."""
    slo = results.options.slo_p99_ms
    out = []
    for name, entry in results.runtimes.items():
        ref = entry.reference
        if ref is None or ref.steady is not False:
            continue
        p99 = p99_of(results, name)
        excluded = (p99 is not None and p99[0] > slo) or ref.errors > 0
        how = settling_text(entry.settling) if entry.settling is not None else "no settling recorded"
        steady = steady_p99(entry)
        beside = (
            f"its steady p99 is {ms(steady[0])} ms ({steady[1]}, {entry.source})"
            if steady
            else "no steady state was reached within the bound, so there is no steady figure to set beside it"
        )
        projected = f", projected p99 {ms(p99[0])} ms" if p99 is not None and p99[1] == PROJECTED else ""
        out.append(
            f"**{name_of(name)}'s reference window was not steady** ({how}): its p99 there "
            f"{ms(ref.latency_ms.p99)} ms{projected} and {ref.errors} errors "
            f"({describe(ref.errors_by_cause)}) are a transient, not its steady state"
            + (f"{'; they exclude it from' if excluded else ', within'} the {slo:g} ms SLO")
            + f"; {beside} (see [{STEADY}](#{anchor(STEADY)}))."
        )
    return out


def _first_minute_claim(results: RunResults) -> Claim | None:
    """What each runtime met in its first seconds after idle: beside the steady figures, never them."""
    met = {n: e.first_minute for n, e in results.runtimes.items() if e.first_minute is not None}
    if not met:
        return None
    seconds = max(fm.seconds for fm in met.values())
    rate = results.options.reference_rate
    text = "; ".join(first_minute_text(name_of(n), fm) for n, fm in met.items())
    tags = {_tag(fm.source) for fm in met.values()}
    return Claim(
        f"The first {seconds:g} s after idle at {rate:g} req/s, a transient the steady figures above do "
        f"not include: {text}.",
        tags.pop() if len(tags) == 1 else "measured here and on AWS",
        STEADY,
    )


def _capacity_claim(results: RunResults) -> Claim | None:
    found = [
        f"{name_of(n)} {e.capacity.sustainable_text()} req/s"
        for n, e in results.runtimes.items()
        if e.capacity is not None
    ]
    if not found:
        return None
    return Claim(
        f"Highest rate meeting the p99 SLO ({slo_words(results)}) under the envelope here: "
        f"{', '.join(found)}{_capacity_spread()}.",
        MEASURED_HERE,
        CAPACITY,
    )


def _capacity_spread() -> str:
    """How much these local capacity figures move from run to run on this machine (spread.toml)."""
    from compare.diff import load_spread  # compare.diff reads the verdict: imported when used

    found = load_spread().get("sustainable_rps")
    if found is None:
        return "; their run-to-run spread on this machine is not recorded"
    return (
        f"; from run to run on this machine these figures move by up to ×{found.factor:g} "
        f"({found.basis}; compare/spread.toml), so only a larger gap ranks the runtimes"
    )


def _cost_claim(estimate: dict[str, Any]) -> Claim:
    combos = estimate.get("recommendation", {}).get("combinations", [])
    if combos:
        costs = ", ".join(
            f"{name_of(c['runtime'])} {c['mode']} ${c['monthly_usd']:,.2f}"
            for c in sorted(combos, key=lambda c: float(c["monthly_usd"]))
        )
        what = (
            "Monthly cost for the profile, each runtime in each mode with that mode's DynamoDB and transfer"
        )
    else:
        by_cost = sorted(estimate["runtimes"].items(), key=lambda item: float(item[1]["monthly_usd"]))
        costs = ", ".join(f"{name_of(n)} ${r['monthly_usd']:,.2f}" for n, r in by_cost)
        what = "Monthly cost for the profile"
    headline = estimate.get("breakeven", {}).get("headline", [])
    said = [h.replace("; modeled)", ")").removesuffix(" (modeled)") for h in headline]  # the tag says it
    tail = f" Break-even: {'; '.join(said)}." if said else ""
    return Claim(f"{what}: {costs}.{tail}", MODELED, COST)


def _day_claim(results: RunResults) -> Claim | None:
    days = {n: e.day for n, e in results.runtimes.items() if e.day is not None}
    if not days:
        return None
    text = "; ".join(
        f"{name_of(n)} p99 {ms(d.p99_ms)} ms, {100 * d.cold_start_share:.1f} % of requests waiting for a "
        f"start, ${d.usd:,.2f} a day"
        for n, d in days.items()
    )
    return Claim(f"Over a simulated business day: {text}.", MODELED, DAY)


def _day_caveat(results: RunResults, chosen: str) -> Claim | None:
    """The pick meets the SLO in steady state but not over the day (starts on the request path)."""
    day = results.runtimes[chosen].day
    slo = results.options.slo_p99_ms
    if day is None or day.p99_ms is None or day.p99_ms <= slo:
        return None
    meeting = [
        (d.usd, n)
        for n, e in results.runtimes.items()
        if (d := e.day) is not None and d.p99_ms is not None and d.p99_ms <= slo
    ]
    then = (
        f"{name_of(min(meeting)[1])} meets it over the day at ${min(meeting)[0]:,.2f} a day"
        if meeting
        else "no runtime meets it over the day"
    )
    return Claim(
        f"If the {slo:g} ms SLO must hold over the whole day, cold starts included, {name_of(chosen)} "
        f"misses it (day p99 {ms(day.p99_ms)} ms, {100 * day.cold_start_share:.1f} % of requests waiting "
        f"for a start); {then}.",
        MODELED,
        DAY,
    )


def _volume_changes(chosen: str, estimate: dict[str, Any]) -> list[Claim]:
    """The volumes at which another configured runtime becomes cheaper, nearest to the profile first."""
    be = estimate.get("breakeven")
    if not be:
        return []
    configured: dict[str, str] = be.get("configured", {})
    mine = configured.get(chosen)
    theirs = {v: k for k, v in configured.items() if k != chosen}
    orders = estimate["workload"]["monthly_orders"]
    found: list[tuple[float, Claim]] = []
    for pair in be.get("pairs", []):
        keys = {pair["a"], pair["b"]}
        if mine not in keys or not keys - {mine} <= set(theirs):
            continue
        other = (keys - {mine}).pop()
        for x in pair["crossovers"]:
            at = x["monthly_orders"]
            if x["cheaper_below"] == mine and at > orders:
                text = (
                    f"Traffic above about {at:,.0f} orders a month ({at / max(orders, 1):.0f}× this "
                    f"profile): {name_of(theirs[other])} ({other}) becomes cheaper."
                )
            elif x["cheaper_below"] == other and at < orders:
                text = (
                    f"Traffic below about {at:,.0f} orders a month: {name_of(theirs[other])} ({other}) "
                    "becomes cheaper."
                )
            else:
                continue
            found.append((abs(at - orders), Claim(text, MODELED, COST)))
            break
    return [claim for _, claim in sorted(found, key=lambda item: item[0])]


def _slo_change(results: RunResults, chosen: str, estimate: dict[str, Any] | None) -> Claim | None:
    mine = p99_of(results, chosen)
    if mine is None:
        return None
    tighter = [
        (n, p)
        for n in results.runtimes
        if n != chosen and (p := p99_of(results, n)) is not None and p[0] < mine[0]
    ]
    if estimate is not None:
        costs = {n: r["monthly_usd"] for n, r in estimate["runtimes"].items()}
        tighter.sort(key=lambda item: costs.get(item[0], float("inf")))
    else:
        tighter.sort(key=lambda item: item[1][0])
    then = (
        f"then {name_of(tighter[0][0])} (p99 {ms(tighter[0][1][0])} ms) is the next to qualify"
        if tighter
        else "then none of the three qualifies"
    )
    return Claim(
        f"An SLO tighter than {ms(mine[0])} ms p99 rules {name_of(chosen)} out; {then}.",
        _tag(mine[1]),
        PROJECTION if mine[1] == PROJECTED else LATENCY,
    )


def build_verdict(results: RunResults) -> Verdict:
    estimate = _estimate(results)
    basis = _basis(results)
    chosen, why = _pick(results, estimate)
    warnings = [w for w in (uncapped_warning(results), generator_warning(results)) if w]
    warnings += transient_warnings(results)
    if basis == MEASURED_HERE:
        warnings.append(local_latency_warning(results))
    missing = []
    if estimate is None:
        note = results.cost.note if results.cost is not None else "the cost model was not run"
        missing.append(f"no modeled cost ({note})")
    if not any(e.projection for e in results.runtimes.values()):
        missing.append("no AWS projection")
    if not any(e.day for e in results.runtimes.values()):
        missing.append("no simulated day")
    claims: list[Claim] = []
    if chosen is None:
        claims.append(
            Claim("No runtime can be recommended: the run holds no latency figure.", results.source)
        )
        return Verdict(None, basis, warnings, claims, missing=missing)
    slo = results.options.slo_p99_ms
    p99 = p99_of(results, chosen)
    latency_section = PROJECTION if basis == PROJECTED else LATENCY
    mode = None
    if why == "cost" and estimate is not None:
        claims.append(_pick_claim(results, estimate, chosen, slo))
        mode = estimate.get("recommendation", {}).get("mode")
    else:
        meets = p99 is not None and p99[0] <= slo
        claims.append(
            Claim(
                f"Pick {name_of(chosen)}: the lowest p99 of the runtimes "
                + (f"meeting the {slo:g} ms SLO" if meets else f"(none meets the {slo:g} ms SLO)")
                + "; the cost was not modeled, so this rests on latency alone.",
                basis,
                latency_section,
            )
        )
    if p99 is not None:
        where = {PROJECTED: "on AWS", AWS_LABEL: "measured on AWS"}.get(p99[1], "here (not an AWS figure)")
        claims.append(
            Claim(
                f"Its p99 {where} is {ms(p99[0])} ms.",
                _tag(p99[1]),
                latency_section,
            )
        )
        notice = _notice_claim(estimate, chosen)
        if notice is not None:
            claims.append(notice)
        mode = (estimate or {}).get("recommendation", {}).get("mode")
        measured_notice = _measured_notice_claim(results, chosen, mode)
        if measured_notice is not None:
            claims.append(measured_notice)
    for extra in (_day_claim(results),):
        if extra is not None:
            claims.append(extra)
    differences = [
        c
        for c in (_cold_claim(results), _first_minute_claim(results), _capacity_claim(results))
        if c is not None
    ]
    if estimate is not None:
        differences.append(_cost_claim(estimate))
    changes = _volume_changes(chosen, estimate) if estimate is not None else []
    caveat = _day_caveat(results, chosen)
    if caveat is not None:
        changes.insert(0, caveat)
    slo_change = _slo_change(results, chosen, estimate)
    if slo_change is not None:
        changes.append(slo_change)
    close = _close_claim(estimate)
    if close is not None:
        changes.append(close)
    sensitive = _sensitivity_claim(results)
    if sensitive is not None:
        changes.append(sensitive)
    return Verdict(chosen, basis, warnings, claims, differences, changes, missing, mode)


def _pick_claim(results: RunResults, estimate: dict[str, Any], chosen: str, slo: float) -> Claim:
    """Runtime and mode, what they cost, and what polling would cost instead."""
    rec = estimate["recommendation"]
    mode = rec.get("mode")
    pick = next(
        (c for c in rec.get("combinations", []) if c["runtime"] == chosen and c["mode"] == mode), None
    )
    target = rec.get("notice_delay_target_ms")
    meeting = f"whose p99 meets the {slo:g} ms SLO" + (
        f" and whose screens show a change within the {target:g} ms notice-delay target" if target else ""
    )
    if pick is None:  # an estimate without modes (an older results file): the runtime alone
        usd = estimate["runtimes"][chosen]["monthly_usd"]
        return Claim(
            f"Pick {name_of(chosen)} for the {_profile_name(results)} profile "
            f"({estimate['workload']['monthly_orders']:,.0f} orders a month): the cheapest runtime "
            f"{meeting}, at ${usd:,.2f} a month.",
            MODELED,
            COST,
        )
    text = (
        f"Pick {name_of(chosen)} with {mode} for the {_profile_name(results)} profile "
        f"({estimate['workload']['monthly_orders']:,.0f} orders a month): the cheapest runtime and mode "
        f"{meeting}, at ${pick['monthly_usd']:,.2f} a month with DynamoDB and transfer "
        f"(${pick['runtime_usd']:,.2f} the runtime's own)."
    )
    instead = rec.get("polling_instead")
    if instead and mode != "polling":
        judged = {True: "within the target", False: "missing the target", None: "no target given"}
        text += (
            f" Polling instead: {name_of(instead['runtime'])} with polling at ${instead['monthly_usd']:,.2f} "
            f"a month, its screens {instead['notice_p99_ms']:,.0f} ms late at p99 "
            f"({judged[instead['meets_notice_target']]})"
        )
        same = instead.get("same_runtime_monthly_usd")
        if same is not None and instead["runtime"] != chosen:
            text += f"; {name_of(chosen)} polling ${same:,.2f}"
        text += "."
    return Claim(text, MODELED, COST)


def _notice_claim(estimate: dict[str, Any] | None, chosen: str) -> Claim | None:
    """How late the pick's screens show a change, in its mode and by polling (modeled)."""
    rec = (estimate or {}).get("recommendation", {})
    modes = (estimate or {}).get("modes", {})
    mode = rec.get("mode")
    found = modes.get(mode, {}).get("runtimes", {}).get(chosen, {}).get("notice_delay")
    if not found:
        return None
    text = (
        f"Its screens show a change {found['p50_ms']:,.0f} ms after it at the median, "
        f"{found['p99_ms']:,.0f} ms at p99 (the slowest, {found['slowest_screen']})"
    )
    polling = modes.get("polling", {}).get("runtimes", {}).get(chosen, {}).get("notice_delay")
    if mode != "polling" and polling:
        text += (
            f"; polling they would take up to {polling['p99_ms']:,.0f} ms at p99, the pages' intervals "
            "(measured by the census) rather than the request setting how current a screen is"
        )
    return Claim(text + ".", str(found["label"]), COST)


def _measured_notice_claim(results: RunResults, chosen: str, mode: str | None) -> Claim | None:
    """The pick's notice delay as this run measured it in the chosen mode (compare.modes)."""
    entry = results.runtimes.get(chosen)
    measured = None if entry is None else (entry.polling if mode == "polling" else entry.push)
    if measured is None or not measured.deliveries:
        return None
    held = f" with {measured.subscribers:,} subscribers held" if measured.subscribers else ""
    text = (
        f"Measured in this run by {measured.transport}, a change reached its trackers in "
        f"{ms(measured.notice_ms.p50)} ms at the median and {ms(measured.notice_ms.p99)} ms at p99"
    )
    if measured.notice_ms_at_1k is not None:
        text += f" ({ms(measured.notice_ms_at_1k.p50)} / {ms(measured.notice_ms_at_1k.p99)} ms{held})"
    return Claim(text + ".", _tag(measured.source), MODES_TITLE)


def _close_claim(estimate: dict[str, Any] | None) -> Claim | None:
    """The runtime × mode combinations within a few per cent of the pick (the sensitivity section
    lists them all)."""
    from compare.report import sensitivity
    from compare.sensitivity import close_combinations

    if estimate is None:
        return None
    close = [c for c in close_combinations(estimate.get("recommendation", {})) if c["close"]]
    if not close:
        return None
    parts = ", ".join(
        f"{c['answer']} ${c['monthly_usd']:,.2f} ({c['gap_share']:+.0%}"
        + ("" if c["works"] else ", misses the SLO or the notice target")
        + ")"
        for c in close
    )
    return Claim(f"Close to the pick: {parts}.", MODELED, sensitivity.TITLE)


def _sensitivity_claim(results: RunResults) -> Claim | None:
    """The assumptions whose range holds another answer, each with the answers at its ends."""
    from compare.report import sensitivity

    record = results.verdict
    if record is None or not record.sensitivity:
        return None
    flips = [row for row in record.sensitivity if row.flips]
    if not flips:
        text = f"No assumption flips it within its range ({len(record.sensitivity)} tested at both ends)."
    else:
        parts = [
            f"{row.input} ({row.answer_at_low} at {row.low:g}, {row.answer_at_high} at {row.high:g})"
            for row in flips
        ]
        text = f"Within their assumed ranges, these flip the answer: {'; '.join(parts)}."
    return Claim(text, MODELED, sensitivity.TITLE)


def section(results: RunResults, charts: object) -> Section:
    verdict = build_verdict(results)
    blocks: list[Block] = [Para(w) for w in verdict.warnings]
    lead = f"**{verdict.pick}.** " if verdict.runtime else ""
    blocks.append(Para(lead + " ".join(c.markdown() for c in verdict.claims)))
    if verdict.differences:
        blocks.append(Para("**The differences that matter:**"))
        blocks.append(Bullets([c.markdown() for c in verdict.differences]))
    if verdict.changes:
        blocks.append(Para("**What would change the answer:**"))
        blocks.append(Bullets([c.markdown() for c in verdict.changes]))
    if verdict.missing:
        blocks.append(Para("Not in this run: " + "; ".join(verdict.missing) + "."))
    blocks.append(Para(HOW_TO_READ))
    return Section(TITLE, blocks)

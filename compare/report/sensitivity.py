"""Does the verdict survive its assumptions: each assumption with a range, the decision at both ends,
and the runtime × mode combinations close to the pick."""

from __future__ import annotations

from compare.report.charts import Charts
from compare.report.document import Block, Image, Para, Section, Table, literal
from compare.results import MODELED, RunResults
from compare.sensitivity import close_combinations

TITLE = "Assumptions that could change the answer"
NOT_IN_IT = (
    "The idle-reap time and the EC2 user-data time shape the simulated day (cold starts met, new "
    "capacity's arrival), not the recommendation, so they are not rerun here."
)


def flipping(results: RunResults) -> list[str]:
    """The inputs whose range holds another answer than the verdict's."""
    record = results.verdict
    return [row.input for row in record.sensitivity if row.flips] if record is not None else []


def combinations_table(results: RunResults) -> list[Block]:
    """Every runtime × mode priced, the pick first, with its gap to the pick: the close ones are
    those a small change of an input could put first."""
    from compare.cost.recommend import CLOSE_SHARE

    estimate = results.cost.estimate if results.cost is not None else None
    rows = close_combinations((estimate or {}).get("recommendation", {}))
    if not rows:
        return []
    close = [r["answer"] for r in rows if r["close"]]
    return [
        Table(
            [
                "runtime and mode",
                "USD a month (with its DynamoDB and transfer)",
                "vs the pick",
                "screens late at p99 (ms)",
                "meets the SLO and the target",
                "",
            ],
            [
                [
                    r["answer"],
                    f"{r['monthly_usd']:,.2f}",
                    "the pick" if r["pick"] else f"{r['gap_share']:+.0%}",
                    f"{r['notice_p99_ms']:,.0f}",
                    "yes" if r["works"] else "no",
                    "**close**" if r["close"] else "",
                ]
                for r in rows
            ],
            caption=f"{MODELED}; close: within {CLOSE_SHARE:.0%} of the pick either way",
        ),
        Para(
            f"**Close to the pick:** {', '.join(close)}."
            if close
            else f"No other runtime and mode comes within {CLOSE_SHARE:.0%} of the pick."
        ),
    ]


def section(results: RunResults, charts: Charts) -> Section:
    record = results.verdict
    if record is None or not record.sensitivity:
        note = record.note if record is not None else "no verdict was tested in this run"
        return Section(TITLE, [Para(f"Not tested: {note}."), *combinations_table(results)])
    rows = [
        [
            row.input,
            row.kind,
            f"{row.low:g} – {row.high:g}",
            row.answer_at_low,
            row.answer_at_high,
            "**flips**" if row.flips else "holds",
        ]
        for row in record.sensitivity
    ]
    blocks: list[Block] = [
        Para(
            "Every input of kind *assumption* carries a range. The decision (the cheapest runtime and "
            "mode meeting the SLO and the notice-delay target) is rerun at each end of each range, one "
            "input at a time: the café's "
            "assumptions reprice the traffic; the AWS overhead assumptions reproject every runtime's "
            f"p99 from this run's measurements ({MODELED})."
        ),
        Table(
            ["input", "kind", "range", "answer at low", "answer at high", ""],
            rows,
            caption=f"{MODELED}; the verdict is {record.sensitivity[0].base}",
        ),
    ]
    names = flipping(results)
    blocks.append(
        Para(
            f"**Inputs that flip the verdict within their range:** {', '.join(names)}."
            if names
            else "No input flips the verdict within its range."
        )
    )
    if charts.sensitivity is not None:
        c = charts.sensitivity
        blocks.append(Image(c.path, f"The verdict at each end of each range — {literal(c.footer)}", c.alt))
    blocks += combinations_table(results)
    blocks.append(Para(NOT_IN_IT))
    return Section(TITLE, blocks)

"""The verdict rerun at each end of every assumed range (compare.sensitivity)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from compare.sensitivity import answer, cafe_swings, close_combinations, decide, overhead_swings

SMALL = Path(__file__).resolve().parents[2] / "compare" / "cost" / "profiles" / "small-cafe.json"


def small() -> dict[str, Any]:
    return json.loads(SMALL.read_text(encoding="utf-8"))


def test_each_cafe_assumption_is_rerun_at_both_ends() -> None:
    seen: list[dict[str, Any]] = []

    def fake(raw: dict[str, Any], p99: Mapping[str, float]) -> str:
        seen.append(raw)
        return "lambda" if raw.get("traffic", {}).get("visible_share") == 0.9 else "ec2"

    swings = {s.input: s for s in cafe_swings(small(), {}, fake)}
    assert set(swings) == {
        "traffic.wait_to_ready_min",
        "traffic.ready_to_pickup_min",
        "traffic.visible_share",
        "traffic.boards",
        "traffic.barista_tablets",
    }
    share = swings["traffic.visible_share"]
    assert (share.low, share.high, share.answer_at_low, share.answer_at_high) == (0.2, 0.9, "ec2", "lambda")
    assert share.flips and not swings["traffic.wait_to_ready_min"].flips
    assert len(seen) == 1 + 2 * 5


def polling_only(raw: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """``raw`` priced from a census taken before push: the pages can only poll."""
    census = json.loads((SMALL.parents[1] / "census.json").read_text(encoding="utf-8"))
    del census["push"]
    path = tmp_path / "census.json"
    path.write_text(json.dumps(census), encoding="utf-8")
    return {**raw, "mode": "polling", "traffic": {**raw["traffic"], "census": str(path)}}


def test_screens_decide_while_they_poll(tmp_path: Path) -> None:
    """Ten barista tablets in the small café, the pages polling: none at all leaves Lambda the
    cheapest; twenty poll tens of millions of requests a month, which a server absorbs and Lambda
    bills one by one."""
    raw = small()
    raw["traffic"] = {**raw["traffic"], "barista_tablets": 10}
    del raw["notice_delay_target_ms"]  # no polling page meets it: judge cost and the SLO alone
    polled = polling_only(raw, tmp_path)
    swings = {s.input: s for s in cafe_swings(polled, polled["p99_ms"])}
    tablets = swings["traffic.barista_tablets"]
    assert (tablets.low, tablets.high) == (0, 20)
    assert tablets.base == decide(polled, polled["p99_ms"]) != "lambda polling"
    assert tablets.answer_at_low == "lambda polling" and tablets.answer_at_high != "lambda polling"
    assert tablets.flips


def test_screens_that_follow_a_stream_no_longer_decide() -> None:
    """The same café whose pages push: a tablet holds a stream instead of polling, so none or twenty
    leave the answer where it was."""
    raw = small()
    raw["traffic"] = {**raw["traffic"], "barista_tablets": 10}
    swings = {s.input: s for s in cafe_swings(raw, raw["p99_ms"])}
    tablets = swings["traffic.barista_tablets"]
    assert tablets.base == "lambda push" and not tablets.flips


def test_an_overhead_assumption_flips_when_a_runtime_crosses_the_slo() -> None:
    raw = {**small(), "slo_p99_ms": 100}
    base = {"lambda": 60.0, "fargate": 50.0, "ec2": 40.0}
    assert decide(raw, base) == "lambda push"  # the cheapest, within the SLO and the notice target

    def p99_at(name: str, median: float) -> dict[str, float]:
        return {**base, "lambda": 40.0 + median * 4} if name == "dynamodb.GetItem.ms" else base

    swings = overhead_swings(
        raw, p99_at, {"dynamodb.GetItem.ms": (3.0, 40.0), "alb.added_ms": (1.0, 5.0)}, base
    )
    by_name = {s.input: s for s in swings}
    dynamodb = by_name["dynamodb.GetItem.ms"]
    assert dynamodb.answer_at_low == dynamodb.base != dynamodb.answer_at_high
    assert not by_name["alb.added_ms"].flips
    assert dynamodb.to_dict()["flips"] is True


def test_the_answer_names_runtime_and_mode_and_the_close_ones_are_listed() -> None:
    from compare.cost import estimate

    rec = estimate(small(), with_breakeven=False)["recommendation"]
    assert answer(rec) == f"{rec['runtime']} {rec['mode']}" and answer({"runtime": None}) == "none"
    rows = close_combinations(rec)
    assert rows[0]["pick"] and rows[0]["answer"] == answer(rec) and rows[0]["gap_share"] == 0
    assert len(rows) == 6 and {r["answer"].split()[1] for r in rows} == {"push", "polling"}
    assert [r["answer"] for r in rows if r["close"]] == [f"{c['runtime']} {c['mode']}" for c in rec["close"]]

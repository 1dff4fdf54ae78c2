"""The café mix: file parsing, seeded plans, constant arrivals, realistic ratios."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from compare.load.workload import DEFAULT_WORKLOAD, CafeContext, WorkloadError, build_plan, load_workload

MENU = [
    {
        "id": "latte",
        "available": True,
        "options": [{"name": "milk", "choices": [{"value": "whole"}, {"value": "oat"}]}],
    },
    {"id": "scone", "available": True, "options": []},
    {"id": "gone", "available": False, "options": []},
]


def _plan(rate: float, duration: float, seed_offset: int = 0) -> list[tuple[float, str]]:
    async def build() -> list[tuple[float, str]]:
        ctx = CafeContext(load_workload(), MENU, "t")
        return [(p.at, p.operation) for p in build_plan(ctx, rate, duration, seed_offset)]

    return asyncio.run(build())


def test_default_workload_reads() -> None:
    workload = load_workload(DEFAULT_WORKLOAD)
    assert {v.name for v in workload.visits} == {"browse", "order", "order_then_cancel"}
    assert workload.expected("cancel", 409) and not workload.expected("menu", 500)


def test_plan_is_seeded_and_on_a_constant_grid() -> None:
    first, again = _plan(100, 5), _plan(100, 5)
    assert first == again
    assert first != _plan(100, 5, seed_offset=1)
    assert len(first) == 500
    assert [round(at, 9) for at, _ in first] == [round(i / 100, 9) for i in range(500)]


def test_mix_has_realistic_ratios() -> None:
    counts = Counter(op for _, op in _plan(200, 20))
    total = sum(counts.values())
    customers = counts["menu"] + counts["poll"] + counts["place_order"] + counts["cancel"]
    assert customers / total == pytest.approx(0.585, abs=0.05)
    assert counts["menu"] > counts["poll"] > counts["place_order"] > counts["cancel"] > 0
    # Every order needs three barista transitions; the rounds plan `keepup` times that.
    assert counts["advance"] >= 3 * counts["place_order"]


def test_orders_use_only_available_items() -> None:
    import random

    ctx = CafeContext(load_workload(), MENU, "t")
    rng = random.Random(1)
    for _ in range(200):
        body = ctx.order_body(rng)
        assert 1 <= len(body["items"]) <= 3
        for line in body["items"]:
            assert line["item_id"] in {"latte", "scone"}
            assert set(line["options"]) <= {"milk"}


def test_malformed_workload_is_refused(tmp_path: Path) -> None:
    text = DEFAULT_WORKLOAD.read_text().replace('steps = ["menu", "menu"]', 'steps = ["menu", "dance"]')
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(WorkloadError, match="dance"):
        load_workload(path)
    path.write_text("seed = 1\n")
    with pytest.raises(WorkloadError):
        load_workload(path)

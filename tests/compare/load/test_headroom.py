"""The headroom verdict: did the generator keep the schedule against the trivial server?"""

from __future__ import annotations

import json
from typing import Any

import pytest

from compare.load.headroom import kept_up
from compare.results import Window
from tests.compare.sample import LATENCY, a_window

RATE = 400.0


def _summary(**changes: Any) -> Window:
    summary: dict[str, Any] = {
        "errors": 0,
        "offered_rps": RATE,
        "throughput_rps": 0.97 * RATE,  # the last answers' tail dilutes a short window
        "send_lag_ms": LATENCY | {"p90": 0.4, "p99": 12.0},  # a VM hiccup in the p99 is tolerated
        "generator_cpu_share": 0.3,
    }
    return a_window(**(summary | changes))


def test_a_generator_on_schedule_kept_up() -> None:
    assert kept_up(_summary(), RATE)


@pytest.mark.parametrize(
    "changes",
    [
        {"errors": 1},
        {"offered_rps": 0.98 * RATE},  # could not even send the plan
        {"throughput_rps": 0.9 * RATE},
        {"send_lag_ms": LATENCY | {"p90": 5.0, "p99": 20.0}},
        {"generator_cpu_share": 0.7},  # near one core: it would be the bottleneck
    ],
    ids=["errors", "under-sent", "under-answered", "late-sends", "cpu-bound"],
)
def test_any_sign_of_strain_means_it_did_not_keep_up(changes: dict[str, Any]) -> None:
    assert not kept_up(_summary(**changes), RATE)


def test_the_headroom_command_prints_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    from compare.__main__ import main

    assert main(["headroom", "--rate", "40", "--seconds", "0.3"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["rate_rps"] == 40 and isinstance(printed["kept_up"], bool)
    assert printed["source"] == "measured here"

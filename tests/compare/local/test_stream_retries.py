"""The local stream mapping retries as the deployed one is configured to (infra's STREAM_RETRIES):
a failing batch is retried, then split in two down to the record at fault, which is dropped; every
other record is delivered, in order, and the cursor moves past all of them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from cafe.stores.base import FeedEvent
from compare.local.lambda_emu import stream_poller
from compare.local.lambda_emu.invoke import Outcome
from compare.local.lambda_emu.stream_poller import StreamPoller
from infra.lambda_package import STREAM_RETRIES


def _events(first: int, last: int) -> list[FeedEvent]:
    return [FeedEvent(n, "order", "{}") for n in range(first, last + 1)]


def _records(events: Iterable[FeedEvent]) -> list[dict[str, Any]]:
    return [{"sequence": e.sequence} for e in events]


def test_a_poisoned_record_is_isolated_and_dropped_the_rest_delivered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[list[int]] = []
    delivered: list[int] = []

    async def fake_invoke(pool: object, event: Mapping[str, Any]) -> Outcome:
        sequences = [r["sequence"] for r in event["Records"]]
        calls.append(sequences)
        if 5 in sequences:
            return Outcome("error")
        delivered.extend(sequences)
        return Outcome("ok")

    monkeypatch.setattr(stream_poller, "invoke", fake_invoke)
    poller = StreamPoller(object(), feed=None, to_records=_records, backoff_s=0.0)  # type: ignore[arg-type]
    assert poller.retries == STREAM_RETRIES["MaximumRetryAttempts"] == 5
    asyncio.run(poller._deliver(_events(1, 8)))
    assert delivered == [1, 2, 3, 4, 6, 7, 8]  # in order, the poisoned record alone left out
    assert poller.figures.dropped == 1 and poller.figures.cursor == 8
    # The whole batch had its first try and 5 retries before it was split.
    assert calls[: poller.retries + 1] == [list(range(1, 9))] * (poller.retries + 1)


def test_a_batch_that_fails_once_is_retried_whole_and_nothing_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    failed: list[bool] = []

    async def flaky(pool: object, event: Mapping[str, Any]) -> Outcome:
        if not failed:
            failed.append(True)
            return Outcome("throttled")
        return Outcome("ok")

    monkeypatch.setattr(stream_poller, "invoke", flaky)
    poller = StreamPoller(object(), feed=None, to_records=_records, backoff_s=0.0)  # type: ignore[arg-type]
    asyncio.run(poller._deliver(_events(10, 12)))
    assert poller.figures.batches == 1 and poller.figures.records == 3 and poller.figures.dropped == 0
    assert poller.figures.failures == 1 and poller.figures.last_error == "throttled"

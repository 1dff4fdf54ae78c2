"""What only the server-sent-events transport has (Fargate, EC2): the HTTP answers around the
stream, ``retry:`` and heartbeats, the per-process hub and its limits. The contract all three
runtimes share is test_push.py."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from cafe.live import hub as live_hub
from tests.push.conftest import Runtime
from tests.push.live import Refused, open_subscription

pytestmark = pytest.mark.sse


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("channel=nope", 422, "validation_failed"),
        ("", 422, "validation_failed"),
        ("channel=board&extra=1", 422, "validation_failed"),
        ("channel=board&order_id=abc", 422, "validation_failed"),
        ("order_id=no-such-order", 404, "order_not_found"),
        ("order_id=%00bad", 422, "validation_failed"),
        ("channel=queue", 401, "authentication_required"),
    ],
)
def test_bad_subscriptions_get_the_usual_json_error(sse_runtime: Runtime, query: str, status: int, code: str):
    answer = httpx.get(
        f"{sse_runtime.url}/events?{query}", headers={"Accept": "text/event-stream"}, timeout=5
    )
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json()["error"]["code"] == code
    assert "content-security-policy" in answer.headers
    if status == 401:
        assert answer.headers["www-authenticate"].startswith("Bearer")


def test_other_methods_on_the_stream_are_405(sse_runtime: Runtime):
    answer = httpx.post(f"{sse_runtime.url}/events?channel=board", timeout=5)
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET"


def test_the_stream_says_when_to_reconnect_and_sends_heartbeats_between_messages(
    sse_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(live_hub, "HEARTBEAT_SECONDS", 0.1)

    async def scenario() -> None:
        order = sse_runtime.place()
        async with open_subscription(sse_runtime, order_id=order["id"]) as stream:
            assert (await stream.next())["order"]["status"] == "PLACED"
            assert stream.retry == [3000]  # EventSource's reconnection delay, before any data
            seen = stream.comments
            assert await stream.nothing_within(0.5)  # heartbeats are comments, not messages
            assert stream.comments >= seen + 2
            sse_runtime.advance(order["id"], "PREPARING")
            assert (await stream.next())["order"]["status"] == "PREPARING"

    run(scenario())


def test_a_process_holding_all_the_subscribers_it_can_refuses_more_and_keeps_them(sse_runtime: Runtime):
    assert sse_runtime.api is not None
    hub = live_hub.hub_for(sse_runtime.api)
    limit = hub.max_subscribers

    async def scenario() -> None:
        order = sse_runtime.place()
        async with (
            open_subscription(sse_runtime, order_id=order["id"]) as one,
            open_subscription(sse_runtime, channel="board") as two,
        ):
            await one.next()
            await two.next()
            hub.max_subscribers = hub.subscribers
            with pytest.raises(Refused) as refused:
                async with open_subscription(sse_runtime, channel="board"):
                    pass
            assert (refused.value.status, refused.value.code) == (503, "too_many_subscribers")
            assert int(refused.value.headers["retry-after"]) > 0
            sse_runtime.advance(order["id"], "PREPARING")  # those it holds are served as before
            assert (await one.next())["order"]["status"] == "PREPARING"
            assert order["number"] in (await two.next())["board"]["preparing"]

    try:
        run(scenario())
    finally:
        hub.max_subscribers = limit


def test_hub_drops_a_subscriber_whose_queue_is_full_and_keeps_the_others():
    async def scenario() -> None:
        slow = live_hub.Subscriber("board", "")
        fast = live_hub.Subscriber("board", "")
        for index in range(live_hub.QUEUE_LIMIT):
            assert slow.offer(f"m{index}", f"m{index}")
        assert not slow.offer("one more", "one more")
        assert slow.dropped
        assert slow.queue.qsize() == 1  # the rest freed: only the end-of-stream marker left
        assert await slow.next(0.1) is None
        assert fast.offer("m", "m") and await fast.next(0.1) == "m"

    run(scenario())


def test_reader_stops_when_nobody_listens(sse_runtime: Runtime):
    async def scenario() -> None:
        async with open_subscription(sse_runtime, channel="board") as stream:
            await stream.next()
        await asyncio.sleep(0.8)

    run(scenario())
    assert sse_runtime.api is not None
    hub = live_hub.hub_for(sse_runtime.api)
    assert hub.subscribers == 0
    assert not hub.reading

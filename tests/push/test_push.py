"""The push contract (docs/live.md, GET /asyncapi.json) against every runtime that pushes."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from cafe.api.asyncapi import document as asyncapi_document
from cafe.live import hub as live_hub
from tests.push.conftest import AMERICANO, STAFF_TOKEN, Cafe, Runtime, subscribe


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def validate(message: dict[str, Any], name: str | None = None) -> None:
    """The message is one the AsyncAPI document describes (its payload schema, refs resolved):
    the message named ``name``, by default its ``type``."""
    registry: Registry = Registry().with_resource(
        "urn:asyncapi", Resource.from_contents(asyncapi_document(), default_specification=DRAFT202012)
    )
    schema = {"$ref": f"urn:asyncapi#/components/messages/{name or message['type']}/payload"}
    Draft202012Validator(schema, registry=registry).validate(message)


# -- GET /live -----------------------------------------------------------------------------------
def test_live_offers_sse_where_the_runtime_streams(runtime: Runtime):
    answer = runtime.call("GET", "/live")
    assert answer.status_code == 200
    assert answer.json() == {"transport": "sse", "url": "/events"}
    assert answer.headers["cache-control"] == "no-store"


def test_live_says_none_where_nothing_streams(cafe: Cafe):
    # Lambda (no WebSocket API yet) and a WSGI server: the pages poll there.
    lambda_answer = cafe.chalice.request("GET", "/live")
    assert (lambda_answer.status, lambda_answer.json()) == (200, {"transport": "none"})
    wsgi_answer = cafe.wsgi.request("GET", "/live")
    assert (wsgi_answer.status, wsgi_answer.json()) == (200, {"transport": "none"})


def test_asyncapi_is_served_beside_openapi(runtime: Runtime):
    answer = runtime.call("GET", "/asyncapi.json")
    assert answer.status_code == 200
    document = answer.json()
    assert document["asyncapi"] == "3.0.0"
    assert set(document["channels"]) == {"order", "board", "queue", "websocket"}
    assert (
        document["components"]["schemas"]["Order"]
        == runtime.call("GET", "/openapi.json").json()["components"]["schemas"]["Order"]
    )
    client_frames = {"subscribe", "ping"}  # what a client sends over a WebSocket
    for operation in document["operations"].values():
        channel = operation["channel"]["$ref"].split("/")[-1]
        names = {message["$ref"].split("/")[-1] for message in operation["messages"]}
        assert names <= set(document["channels"][channel]["messages"])
        assert operation["action"] == ("send" if names <= client_frames else "receive")


# -- subscribing: refusals before the stream -----------------------------------------------------
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
def test_bad_subscriptions_get_the_usual_json_error(runtime: Runtime, query: str, status: int, code: str):
    answer = httpx.get(f"{runtime.url}/events?{query}", headers={"Accept": "text/event-stream"}, timeout=5)
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json()["error"]["code"] == code
    assert "content-security-policy" in answer.headers
    if status == 401:
        assert answer.headers["www-authenticate"].startswith("Bearer")


def test_other_methods_on_the_stream_are_405(runtime: Runtime):
    answer = httpx.post(f"{runtime.url}/events?channel=board", timeout=5)
    assert answer.status_code == 405
    assert answer.headers["allow"] == "GET"


def test_staff_queue_refuses_wrong_tokens_and_locks_out(runtime: Runtime):
    guard = runtime.api.guard
    client = "192.0.2.77"  # named through X-Forwarded-For: loopback is a trusted hop
    headers = {"Authorization": "Bearer wrong", "X-Forwarded-For": client}
    url = f"{runtime.url}/events?channel=queue"
    try:
        statuses = [httpx.get(url, headers=headers, timeout=5).status_code for _ in range(guard.max_failures)]
        assert statuses == [403] * guard.max_failures
        locked = httpx.get(url, headers={**headers, "Authorization": f"Bearer {STAFF_TOKEN}"}, timeout=5)
        assert locked.status_code == 429
        assert locked.json()["error"]["code"] == "staff_locked_out"
        assert int(locked.headers["retry-after"]) > 0
        # The lockout is the one every staff call shares.
        assert runtime.call("GET", "/orders").status_code == 401
        other = httpx.get(
            f"{runtime.url}/orders", headers={**headers, "Authorization": f"Bearer {STAFF_TOKEN}"}, timeout=5
        )
        assert other.status_code == 429
    finally:
        guard._locked_until.pop(client, None)
        guard._failures.pop(client, None)


# -- current state first, then each change once, in order ----------------------------------------
def test_order_subscriber_gets_current_state_then_each_change_once_in_order(runtime: Runtime):
    async def scenario() -> None:
        order = runtime.place()
        async with subscribe(runtime, f"order_id={order['id']}") as stream:
            first = await stream.next()
            assert first == {"type": "order", "order": runtime.call("GET", f"/orders/{order['id']}").json()}
            validate(first)
            seen = []
            for status in ("PREPARING", "READY", "COMPLETED"):
                answered = runtime.advance(order["id"], status)
                message = await stream.next(2)
                assert message == {"type": "order", "order": answered}
                seen.append(message["order"]["status"])
            assert seen == ["PREPARING", "READY", "COMPLETED"]
            assert await stream.nothing_within(0.6)

    run(scenario())


def test_rapid_changes_arrive_once_each_in_order(runtime: Runtime):
    async def scenario() -> None:
        order = runtime.place()
        async with subscribe(runtime, f"order_id={order['id']}") as stream:
            await stream.next()
            for status in ("PREPARING", "READY", "COMPLETED"):  # faster than one feed poll
                runtime.advance(order["id"], status)
            versions = [(await stream.next(2))["order"]["version"] for _ in range(3)]
            assert versions == [order["version"] + 1, order["version"] + 2, order["version"] + 3]
            assert await stream.nothing_within(0.5)

    run(scenario())


def test_cancellation_is_pushed(runtime: Runtime):
    async def scenario() -> None:
        order = runtime.place()
        async with subscribe(runtime, f"order_id={order['id']}") as stream:
            await stream.next()
            cancelled = runtime.call("POST", f"/orders/{order['id']}/cancel")
            assert cancelled.status_code == 200
            assert (await stream.next(2))["order"] == cancelled.json()

    run(scenario())


def test_board_subscriber_gets_the_pickup_board(runtime: Runtime):
    async def scenario() -> None:
        order = runtime.place()
        async with subscribe(runtime, "channel=board") as stream:
            first = await stream.next()
            assert first == {"type": "board", "board": runtime.call("GET", "/pickup").json()}
            validate(first)
            runtime.advance(order["id"], "PREPARING")
            preparing = await stream.next(2)
            assert preparing == {"type": "board", "board": runtime.call("GET", "/pickup").json()}
            assert order["number"] in preparing["board"]["preparing"]
            runtime.place()  # a placement leaves the board as it was: no message
            assert await stream.nothing_within(0.5)
            runtime.advance(order["id"], "READY")
            ready = await stream.next(2)
            assert order["number"] in ready["board"]["ready"]
            assert order["number"] not in ready["board"]["preparing"]

    run(scenario())


def test_queue_subscriber_gets_orders_and_store(runtime: Runtime):
    async def scenario() -> None:
        async with subscribe(runtime, "channel=queue", token=STAFF_TOKEN) as stream:
            first = await stream.next()
            validate(first)
            listed = runtime.call("GET", "/orders?status=PLACED,PREPARING,READY&limit=500", staff=True).json()
            assert first["queue"] == listed
            assert first["store"] == runtime.call("GET", "/store").json()
            order = runtime.place()
            placed = await stream.next(2)
            assert order["id"] in [o["id"] for o in placed["queue"]["orders"]]
            assert placed["store"]["waiting"] == first["store"]["waiting"] + 1
            settings = runtime.call("GET", "/store").json()
            changed = runtime.call(
                "PUT",
                "/store",
                {"open": settings["open"], "max_waiting": settings["max_waiting"] + 1},
                staff=True,
            )
            assert changed.status_code == 200
            assert (await stream.next(2))["store"] == changed.json()
            restore = {"open": settings["open"], "max_waiting": settings["max_waiting"]}
            assert runtime.call("PUT", "/store", restore, staff=True).status_code == 200

    run(scenario())


# -- one order book, one feed: a change made anywhere reaches subscribers everywhere -------------
def test_changes_through_every_endpoint_reach_every_subscriber(cafe: Cafe):
    fargate, ec2 = cafe.runtimes["fargate"], cafe.runtimes["ec2"]

    async def scenario() -> None:
        placed = cafe.wsgi.request(  # placed on EC2's WSGI side (the census's and pages' path)
            "POST",
            "/orders",
            body=json.dumps(AMERICANO).encode(),
            headers={"Content-Type": "application/json"},
        )
        assert placed.status == 201
        order = placed.json()
        async with (
            subscribe(fargate, f"order_id={order['id']}") as on_fargate,
            subscribe(ec2, f"order_id={order['id']}") as on_ec2,
            subscribe(fargate, "channel=board") as board,
        ):
            for stream in (on_fargate, on_ec2):
                assert (await stream.next())["order"]["status"] == "PLACED"
            await board.next()
            # Advanced through Lambda's Chalice app, on the same order book.
            moved = cafe.chalice.request(
                "POST",
                f"/orders/{order['id']}/status",
                body=json.dumps({"status": "PREPARING"}).encode(),
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {STAFF_TOKEN}"},
            )
            assert moved.status == 200
            for stream in (on_fargate, on_ec2):
                assert (await stream.next(2))["order"] == moved.json()
            assert order["number"] in (await board.next(2))["board"]["preparing"]
            ec2.advance(order["id"], "READY")  # and through EC2's own stream runtime
            for stream in (on_fargate, on_ec2):
                assert (await stream.next(2))["order"]["status"] == "READY"

    run(scenario())


# -- many subscribers, and one that never reads -------------------------------------------------
def test_many_subscribers_each_get_the_change(runtime: Runtime):
    count = 200

    async def scenario() -> None:
        order = runtime.place()
        limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=0)
        async with httpx.AsyncClient(timeout=httpx.Timeout(20, read=None), limits=limits) as client:
            streams = []
            contexts = []
            for index in range(count):
                query = f"order_id={order['id']}" if index % 2 else "channel=board"
                context = subscribe(runtime, query, client=client)
                contexts.append(context)
                streams.append(await context.__aenter__())
            try:
                await asyncio.gather(*(stream.next(10) for stream in streams))
                runtime.advance(order["id"], "PREPARING")
                messages = await asyncio.gather(*(stream.next(10) for stream in streams))
                assert {m["type"] for m in messages} == {"order", "board"}
                assert all(
                    m["order"]["status"] == "PREPARING"
                    if m["type"] == "order"
                    else order["number"] in m["board"]["preparing"]
                    for m in messages
                )
            finally:
                for context in reversed(contexts):
                    await context.__aexit__(None, None, None)

    run(scenario())


def test_a_subscriber_that_never_reads_does_not_hold_up_others(runtime: Runtime):
    host, port = runtime.url.removeprefix("http://").split(":")

    async def scenario() -> None:
        order = runtime.place()
        silent = socket.create_connection((host, int(port)))
        silent.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        silent.sendall(f"GET /events?channel=board HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        try:
            async with subscribe(runtime, f"order_id={order['id']}") as stream:
                await stream.next()
                for status in ("PREPARING", "READY", "COMPLETED"):
                    runtime.advance(order["id"], status)
                    assert (await stream.next(1))["order"]["status"] == status
        finally:
            silent.close()

    run(scenario())


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


def test_reader_stops_when_nobody_listens(runtime: Runtime):
    async def scenario() -> None:
        async with subscribe(runtime, "channel=board") as stream:
            await stream.next()
        await asyncio.sleep(0.8)

    run(scenario())
    hub = live_hub.hub_for(runtime.api)
    assert hub.subscribers == 0
    assert not hub.reading

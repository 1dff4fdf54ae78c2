"""The push contract (docs/live.md, GET /asyncapi.json) against every runtime, as tests/api/ is
for HTTP: Fargate and EC2 push by server-sent events, Lambda through API Gateway's WebSocket API
(the local emulator); every test here runs on all three through the transport-neutral client of
``tests/push/live.py``. What only one transport has is in test_push_sse.py and
test_push_websocket.py.
"""

from __future__ import annotations

import asyncio
import json
import socket
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from cafe.api.guard import MAX_FAILURES
from cafe.live import hub as live_hub
from cafe.live.connections_sqlite import SQLiteConnections
from tests.push.conftest import (
    AMERICANO,
    LAMBDA_CONCURRENCY,
    RUNTIMES,
    STAFF_TOKEN,
    Cafe,
    Runtime,
    eventually,
)
from tests.push.live import (
    OPEN_TIMEOUT,
    Refused,
    Stream,
    open_subscription,
    shared_client,
    sse_peer,
    validate,
)
from tests.rawsocket import RawWebSocket


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


# -- GET /live -----------------------------------------------------------------------------------
def test_live_names_the_runtimes_transport(runtime: Runtime):
    answer = runtime.call("GET", "/live")
    assert answer.status_code == 200
    if runtime.transport == "sse":
        assert answer.json() == {"transport": "sse", "url": "/events"}
    else:  # the emulator's WebSocket API, as CAFE_WS_URL names API Gateway's on AWS
        assert answer.json() == {"transport": "websocket", "url": runtime.ws_url}
        assert str(runtime.ws_url).startswith("ws://127.0.0.1:")
    assert answer.headers["cache-control"] == "no-store"


def test_live_says_none_where_nothing_streams(cafe: Cafe):
    # The Chalice app without CAFE_WS_URL (no WebSocket API), and a WSGI server: the pages poll.
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
    ("fields", "status", "code"),
    [
        ({"channel": "nope"}, 422, "validation_failed"),
        ({}, 422, "validation_failed"),
        ({"channel": "board", "extra": "1"}, 422, "validation_failed"),
        ({"channel": "board", "order_id": "abc"}, 422, "validation_failed"),
        ({"order_id": "no-such-order"}, 404, "order_not_found"),
        ({"order_id": "\x00bad"}, 422, "validation_failed"),
        ({"channel": "queue"}, 401, "authentication_required"),
    ],
    ids=[
        "unknown-channel",
        "nothing",
        "unknown-field",
        "channel-and-order",
        "unknown-order",
        "bad-id",
        "queue",
    ],
)
def test_bad_subscriptions_are_refused_with_the_http_status_and_code(
    runtime: Runtime, fields: dict[str, str], status: int, code: str
):
    async def scenario() -> Refused:
        with pytest.raises(Refused) as refused:
            async with open_subscription(runtime, **fields) as stream:
                raise AssertionError(f"subscribed: {await stream.next()}")
        return refused.value

    refused = run(scenario())
    assert (refused.status, refused.code) == (status, code)
    if runtime.transport == "websocket":
        validate(refused.document, "error")  # the error message the AsyncAPI document describes


def forget_failures(runtime: Runtime, peer: int) -> None:
    """SSE: the in-process guard forgets the client. (The emulator's cannot be reached: each
    test that counts failures there does so from a loopback address of its own.)"""
    if runtime.api is not None:
        runtime.api.guard._locked_until.pop(sse_peer(peer), None)
        runtime.api.guard._failures.pop(sse_peer(peer), None)


def test_staff_queue_refuses_wrong_tokens_and_locks_out(runtime: Runtime):
    peer = 77
    if runtime.api is not None:
        assert runtime.api.guard.max_failures == MAX_FAILURES  # the emulator's is the default too

    async def refusal(token: str) -> Refused:
        with pytest.raises(Refused) as refused:
            async with open_subscription(runtime, token, peer=peer, channel="queue"):
                pass
        return refused.value

    async def scenario() -> None:
        wrong = [await refusal("wrong") for _ in range(MAX_FAILURES)]
        assert [(r.status, r.code) for r in wrong] == [(403, "not_permitted")] * MAX_FAILURES
        locked = await refusal(STAFF_TOKEN)  # the right token, but this client is locked out
        assert (locked.status, locked.code) == (429, "staff_locked_out")
        assert locked.document["error"]["details"]["retry_after_seconds"] > 0
        if runtime.transport == "sse":
            assert int(locked.headers["retry-after"]) > 0
        # Another client is not locked out by this one.
        async with open_subscription(runtime, STAFF_TOKEN, peer=peer + 1, channel="queue") as other:
            assert (await other.next())["type"] == "queue"

    try:
        run(scenario())
        if runtime.transport == "sse":
            # The lockout is the one every staff call of the process shares. (On Lambda the
            # WebSocket message function keeps its own, as each function's environments do.)
            headers = {"Authorization": f"Bearer {STAFF_TOKEN}", "X-Forwarded-For": sse_peer(peer)}
            assert runtime.call("GET", "/orders").status_code == 401
            assert httpx.get(f"{runtime.url}/orders", headers=headers, timeout=5).status_code == 429
    finally:
        forget_failures(runtime, peer)
        forget_failures(runtime, peer + 1)


# -- current state first, then each change once, in order ----------------------------------------
def test_order_subscriber_gets_current_state_then_each_change_once_in_order(runtime: Runtime):
    async def scenario() -> None:
        order = runtime.place()
        async with open_subscription(runtime, order_id=order["id"]) as stream:
            first = await stream.next()
            assert first == {"type": "order", "order": runtime.call("GET", f"/orders/{order['id']}").json()}
            validate(first)
            seen = []
            for status in ("PREPARING", "READY", "COMPLETED"):
                answered = runtime.advance(order["id"], status)
                message = await stream.next()
                assert message == {"type": "order", "order": answered}
                validate(message)
                seen.append(message["order"]["status"])
            assert seen == ["PREPARING", "READY", "COMPLETED"]
            assert await stream.no_more()

    run(scenario())


def test_rapid_changes_arrive_once_each_in_order(runtime: Runtime):
    async def scenario() -> None:
        order = runtime.place()
        async with open_subscription(runtime, order_id=order["id"]) as stream:
            await stream.next()
            for status in ("PREPARING", "READY", "COMPLETED"):  # faster than one feed poll
                runtime.advance(order["id"], status)
            versions = [(await stream.next())["order"]["version"] for _ in range(3)]
            assert versions == [order["version"] + 1, order["version"] + 2, order["version"] + 3]
            assert await stream.no_more()

    run(scenario())


def test_cancellation_is_pushed(runtime: Runtime):
    async def scenario() -> None:
        order = runtime.place()
        async with open_subscription(runtime, order_id=order["id"]) as stream:
            await stream.next()
            cancelled = runtime.call("POST", f"/orders/{order['id']}/cancel")
            assert cancelled.status_code == 200
            assert (await stream.next())["order"] == cancelled.json()
            assert cancelled.json()["status"] == "CANCELLED"
            assert await stream.no_more()

    run(scenario())


def test_board_subscriber_gets_the_pickup_board(runtime: Runtime):
    async def scenario() -> None:
        order = runtime.place()
        async with open_subscription(runtime, channel="board") as stream:
            first = await stream.next()
            assert first == {"type": "board", "board": runtime.call("GET", "/pickup").json()}
            validate(first)
            runtime.advance(order["id"], "PREPARING")
            preparing = await stream.next()
            assert preparing == {"type": "board", "board": runtime.call("GET", "/pickup").json()}
            assert order["number"] in preparing["board"]["preparing"]
            runtime.place()  # a placement leaves the board as it was: no message
            assert await stream.no_more()
            runtime.advance(order["id"], "READY")
            ready = await stream.next()
            assert order["number"] in ready["board"]["ready"]
            assert order["number"] not in ready["board"]["preparing"]
            assert await stream.no_more()

    run(scenario())


def test_queue_subscriber_gets_orders_and_store(runtime: Runtime):
    async def scenario() -> None:
        async with open_subscription(runtime, STAFF_TOKEN, channel="queue") as stream:
            first = await stream.next()
            validate(first)
            listed = runtime.call("GET", "/orders?status=PLACED,PREPARING,READY&limit=500", staff=True).json()
            assert first["queue"] == listed
            assert first["store"] == runtime.call("GET", "/store").json()
            order = runtime.place()
            placed = await stream.next()
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
            assert (await stream.next())["store"] == changed.json()
            restore = {"open": settings["open"], "max_waiting": settings["max_waiting"]}
            assert runtime.call("PUT", "/store", restore, staff=True).status_code == 200
            assert (await stream.next())["store"]["max_waiting"] == settings["max_waiting"]

    run(scenario())


# -- one order book, one feed: a change made anywhere reaches subscribers everywhere -------------
@pytest.mark.parametrize("maker", RUNTIMES)
def test_a_change_through_any_runtime_reaches_subscribers_on_every_runtime(
    every_runtime: dict[str, Runtime], maker: str
):
    through = every_runtime[maker]

    async def scenario() -> None:
        order = through.place()
        async with AsyncExitStack() as stack:
            orders, boards = {}, {}
            for name, runtime in every_runtime.items():
                orders[name] = await stack.enter_async_context(
                    open_subscription(runtime, order_id=order["id"])
                )
                boards[name] = await stack.enter_async_context(open_subscription(runtime, channel="board"))
            current = through.call("GET", f"/orders/{order['id']}").json()
            for name in every_runtime:
                assert (await orders[name].next()) == {"type": "order", "order": current}
                assert (await boards[name].next())["type"] == "board"
            for status, column in (("PREPARING", "preparing"), ("READY", "ready")):
                answered = through.advance(order["id"], status)
                for name in every_runtime:
                    assert (await orders[name].next()) == {"type": "order", "order": answered}, name
                    assert order["number"] in (await boards[name].next())["board"][column], name
            assert all(await asyncio.gather(*(s.no_more() for s in (*orders.values(), *boards.values()))))

    run(scenario())


def test_changes_through_the_in_process_endpoints_reach_every_subscriber(
    cafe: Cafe, every_runtime: dict[str, Runtime]
):
    async def scenario() -> None:
        placed = cafe.wsgi.request(  # placed on EC2's WSGI side (the census's and pages' path)
            "POST",
            "/orders",
            body=json.dumps(AMERICANO).encode(),
            headers={"Content-Type": "application/json"},
        )
        assert placed.status == 201
        order = placed.json()
        async with AsyncExitStack() as stack:
            streams = [
                await stack.enter_async_context(open_subscription(runtime, order_id=order["id"]))
                for runtime in every_runtime.values()
            ]
            board = await stack.enter_async_context(
                open_subscription(every_runtime["fargate"], channel="board")
            )
            for stream in streams:
                assert (await stream.next())["order"]["status"] == "PLACED"
            await board.next()
            # Advanced through Lambda's Chalice app in-process, on the same order book.
            moved = cafe.chalice.request(
                "POST",
                f"/orders/{order['id']}/status",
                body=json.dumps({"status": "PREPARING"}).encode(),
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {STAFF_TOKEN}"},
            )
            assert moved.status == 200
            for stream in streams:
                assert (await stream.next())["order"] == moved.json()
            assert order["number"] in (await board.next())["board"]["preparing"]
            every_runtime["ec2"].advance(order["id"], "READY")  # and through EC2's own stream runtime
            for stream in streams:
                assert (await stream.next())["order"]["status"] == "READY"

    run(scenario())


# -- reconnect and resync ------------------------------------------------------------------------
async def drop_from_the_server(runtime: Runtime, stream: Stream, order_id: str) -> None:
    """The runtime ends the subscriber's connection: the SSE hub drops it (as it drops one that
    falls behind), API Gateway closes it (as after 10 idle minutes or 2 hours: here the
    @connections API's DELETE)."""
    if runtime.api is not None:
        hub = live_hub.hub_for(runtime.api)
        [subscriber] = hub._channels[("order", order_id)]
        subscriber.close()
    else:
        assert runtime.emulator is not None
        connections = SQLiteConnections(runtime.emulator.store)
        [connection_id] = connections.members(f"order#{order_id}")
        deleted = httpx.delete(f"{runtime.url}/api/@connections/{connection_id}", timeout=10)
        assert deleted.status_code == 204
    assert await stream.ended()
    await runtime.closed()
    if runtime.emulator is not None:  # its $disconnect forgot its subscription
        connections = SQLiteConnections(runtime.emulator.store)
        eventually(lambda: connections.members(f"order#{order_id}") == {}, "the $disconnect")


@pytest.mark.parametrize("dropped_by", ["client", "server"])
def test_a_new_subscription_after_a_drop_gets_the_current_state_then_the_changes(
    runtime: Runtime, dropped_by: str
):
    async def scenario() -> None:
        order = runtime.place()
        async with (
            open_subscription(runtime, order_id=order["id"]) as stream,
            open_subscription(runtime, channel="board") as board,
        ):
            assert (await stream.next())["order"]["status"] == "PLACED"
            await board.next()
            runtime.advance(order["id"], "PREPARING")
            assert (await stream.next())["order"]["status"] == "PREPARING"
            assert order["number"] in (await board.next())["board"]["preparing"]
            if dropped_by == "server":
                await drop_from_the_server(runtime, stream, order["id"])
        # Away: the order moves on.
        ready = runtime.advance(order["id"], "READY")
        async with AsyncExitStack() as stack:
            # Back at once, while the change may still be on its way to subscribers: the new
            # order subscriber gets it as its current state, and never a second time.
            stream = await stack.enter_async_context(open_subscription(runtime, order_id=order["id"]))
            assert (await stream.next()) == {"type": "order", "order": ready}  # resynced first
            # The board only once the change has been handed out: a board subscriber on Lambda
            # can be sent a change that its first message already showed (see
            # test_lambda_websocket.py::test_a_new_subscriber_is_not_sent_a_change_its_first_message_showed).
            await runtime.caught_up()
            board = await stack.enter_async_context(open_subscription(runtime, channel="board"))
            resynced = (await board.next())["board"]
            assert resynced == runtime.call("GET", "/pickup").json()
            assert order["number"] in resynced["ready"]
            completed = runtime.advance(order["id"], "COMPLETED")
            assert (await stream.next()) == {"type": "order", "order": completed}
            assert order["number"] not in (await board.next())["board"]["ready"]
            assert all(await asyncio.gather(stream.no_more(), board.no_more()))

    run(scenario())


# -- many subscribers, and one that never reads -------------------------------------------------
def test_many_subscribers_each_get_the_change(runtime: Runtime):
    count = 200
    # Opened one by one (a $default function may still be finishing when its subscriber has its
    # first message); closed as many at once as the emulator has environments per function, then
    # their $disconnects waited for: past that it throttles, as Lambda does past its concurrency,
    # and a throttled $connect or $disconnect is lost.
    closing = 1 if runtime.transport == "sse" else LAMBDA_CONCURRENCY

    async def scenario() -> None:
        order = runtime.place()
        async with shared_client(runtime, count) as shared:
            contexts = [
                open_subscription(
                    runtime,
                    shared=shared,
                    settle=False,
                    **({"order_id": order["id"]} if index % 2 else {"channel": "board"}),
                )
                for index in range(count)
            ]
            streams: list[Stream] = []
            try:
                for context in contexts:
                    streams.append(await context.__aenter__())
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
                opened = contexts[: len(streams)]
                for start in range(0, len(opened), closing):
                    chunk = opened[start : start + closing]
                    await asyncio.gather(*(context.__aexit__(None, None, None) for context in chunk))
                    await runtime.closed()

    run(scenario())


def test_a_subscriber_that_never_reads_does_not_hold_up_others(runtime: Runtime):
    async def scenario() -> None:
        order = runtime.place()
        silent = never_reading_queue_subscriber(runtime)
        try:
            async with open_subscription(runtime, order_id=order["id"]) as stream:
                await stream.next()
                for status in ("PREPARING", "READY", "COMPLETED"):
                    runtime.advance(order["id"], status)
                    assert (await stream.next(runtime.prompt / 2))["order"]["status"] == status
        finally:
            silent.close()
        await runtime.closed()

    run(scenario())


def never_reading_queue_subscriber(runtime: Runtime) -> socket.socket | RawWebSocket:
    """A barista's queue subscriber (the largest messages: every open order) with a small
    receive buffer, that never reads a byte."""
    if runtime.transport == "sse":
        host, port = runtime.url.removeprefix("http://").split(":")
        silent = socket.create_connection((host, int(port)))
        silent.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        silent.sendall(
            f"GET /events?channel=queue HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: Bearer {STAFF_TOKEN}\r\n\r\n".encode()
        )
        return silent
    raw = RawWebSocket(str(runtime.ws_url), receive_buffer=4096, timeout=OPEN_TIMEOUT)
    raw.send(json.dumps({"action": "subscribe", "channel": "queue", "token": STAFF_TOKEN}).encode())
    return raw

"""What only the WebSocket transport has (Lambda, through API Gateway's WebSocket API in the
local emulator, on the real café functions): client frames other than a subscription (ping,
malformed, oversize, unknown actions, floods of subscriptions on one connection) and the
gateway's frame limits. Each bad frame gets an error message, or the connection is closed, and
nobody else notices. The contract all three runtimes share is test_push.py; the handlers
themselves, invoked directly, are test_lambda_websocket.py."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from cafe.api.parsing import MAX_FRAME_BYTES
from cafe.live.connections import MAX_SUBSCRIPTIONS
from cafe.live.connections_sqlite import SQLiteConnections
from tests.push.conftest import STAFF_TOKEN, Runtime, eventually
from tests.push.live import OPEN_TIMEOUT, WebSocketStream, open_subscription, validate
from tests.rawsocket import RawWebSocket

pytestmark = pytest.mark.websocket


@pytest.fixture
def lam(lambda_runtime: Runtime) -> Runtime:
    asyncio.run(lambda_runtime.caught_up())
    return lambda_runtime


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def members(runtime: Runtime, channel: str) -> dict[str, int]:
    assert runtime.emulator is not None
    return SQLiteConnections(runtime.emulator.store).members(channel)


async def answer_to(stream: WebSocketStream, frame: Any) -> dict[str, Any]:
    await stream.send(frame)
    return await stream.next()


def test_ping_is_answered_with_pong(lam: Runtime):
    async def scenario() -> None:
        async with open_subscription(lam, channel="board") as stream:
            assert isinstance(stream, WebSocketStream)
            await stream.next()
            validate({"action": "ping"}, "ping")
            pong = await answer_to(stream, {"action": "ping"})
            assert pong == {"type": "pong"}
            validate(pong)

    run(scenario())


BAD_FRAMES: list[tuple[str, Any, int, str]] = [
    ("not json", "{not json", 400, "malformed_request"),
    ("not an object", "[1, 2]", 400, "malformed_request"),
    ("empty", "", 400, "malformed_request"),
    ("over 4 KiB", json.dumps({"action": "ping", "pad": "x" * MAX_FRAME_BYTES}), 413, "payload_too_large"),
    ("unknown action", {"action": "unsubscribe", "channel": "board"}, 422, "validation_failed"),
    ("no action", {"channel": "board"}, 422, "validation_failed"),
    ("action not a string", {"action": 7}, 422, "validation_failed"),
    ("unknown field", {"action": "subscribe", "channel": "board", "extra": 1}, 422, "validation_failed"),
    (
        "token on the board",
        {"action": "subscribe", "channel": "board", "token": "x"},
        422,
        "validation_failed",
    ),
    ("order id not a string", {"action": "subscribe", "order_id": 12}, 422, "validation_failed"),
    ("ping with a field", {"action": "ping", "extra": 1}, 422, "validation_failed"),
]


def test_bad_frames_get_an_error_and_change_nothing_for_anyone(lam: Runtime):
    async def scenario() -> None:
        order = lam.place()
        async with (
            open_subscription(lam, order_id=order["id"]) as sender,
            open_subscription(lam, order_id=order["id"]) as other,
        ):
            assert isinstance(sender, WebSocketStream)
            await sender.next()
            await other.next()
            for name, frame, status, code in BAD_FRAMES:
                answer = await answer_to(sender, frame)
                assert answer["type"] == "error", name
                assert (answer["status"], answer["error"]["code"]) == (status, code), name
                validate(answer)
            # The connection is still open and still subscribed; it subscribed to nothing else;
            # the other connection noticed nothing.
            assert await answer_to(sender, {"action": "ping"}) == {"type": "pong"}
            assert len(members(lam, f"order#{order['id']}")) == 2
            assert await other.nothing_within(0.1)
            moved = lam.advance(order["id"], "PREPARING")
            for stream in (sender, other):
                assert await stream.next() == {"type": "order", "order": moved}
                assert await stream.no_more()

    run(scenario())


def test_a_connection_holds_at_most_ten_subscriptions_even_when_flooded(lam: Runtime):
    async def scenario() -> None:
        orders = [lam.place() for _ in range(MAX_SUBSCRIPTIONS)]
        async with (
            open_subscription(lam, order_id=orders[0]["id"]) as flood,
            open_subscription(lam, channel="board") as other,
        ):
            assert isinstance(flood, WebSocketStream)
            await flood.next()
            await other.next()
            # Every frame at once, without waiting for an answer: answered one by one, in order.
            frames = [{"action": "subscribe", "order_id": order["id"]} for order in orders[1:]]
            frames += [
                {"action": "subscribe", "channel": "board"},  # the eleventh: refused
                {"action": "subscribe", "order_id": orders[0]["id"]},  # held already: no new one
                {"action": "ping"},
            ]
            for frame in frames:
                await flood.send(frame)
            answers = [await flood.next() for _ in frames]
            assert [a["order"]["id"] for a in answers[: len(orders) - 1]] == [o["id"] for o in orders[1:]]
            refused = answers[len(orders) - 1]
            assert refused["type"] == "error"
            assert (refused["status"], refused["error"]["code"]) == (422, "too_many_subscriptions")
            assert refused["error"]["details"]["limit"] == MAX_SUBSCRIPTIONS
            assert (answers[-2]["type"], answers[-2]["order"]["id"]) == ("order", orders[0]["id"])
            assert answers[-1] == {"type": "pong"}
            # The board it was refused sends it nothing; its own subscriptions work, once each;
            # the other connection's board subscription is untouched.
            moved = lam.advance(orders[0]["id"], "PREPARING")
            assert await flood.next() == {"type": "order", "order": moved}
            assert orders[0]["number"] in (await other.next())["board"]["preparing"]
            assert await flood.no_more()
        for order in orders[1:]:  # out of the queue again
            assert lam.call("POST", f"/orders/{order['id']}/cancel").status_code == 200

    run(scenario())


@pytest.mark.parametrize(
    ("frame", "opcode", "close_code"),
    [
        pytest.param(b"x" * 40_000, 0x1, 1009, id="text frame over the 32 KB frame limit"),
        pytest.param(b'{"action":"ping"}', 0x2, 1003, id="binary frame"),
    ],
)
def test_a_frame_the_gateway_refuses_closes_that_connection_only(
    lam: Runtime, frame: bytes, opcode: int, close_code: int
):
    async def scenario() -> None:
        order = lam.place()
        raw = await asyncio.to_thread(RawWebSocket, str(lam.ws_url), None, OPEN_TIMEOUT)
        try:
            raw.send(json.dumps({"action": "subscribe", "order_id": order["id"]}).encode())
            opcode_in, first = await asyncio.to_thread(raw.receive)
            assert (opcode_in, json.loads(first)["order"]["id"]) == (0x1, order["id"])
            async with open_subscription(lam, order_id=order["id"]) as other:
                await other.next()
                raw.send(frame, opcode)
                assert await asyncio.to_thread(raw.close_code) == close_code
                await lam.closed()
                # Its $disconnect forgot it; the other connection is as it was.
                eventually(lambda: len(members(lam, f"order#{order['id']}")) == 1, "the $disconnect")
                moved = lam.advance(order["id"], "PREPARING")
                assert await other.next() == {"type": "order", "order": moved}
        finally:
            raw.close()

    run(scenario())


def test_a_queue_subscription_refused_on_a_connection_leaves_it_usable(lam: Runtime):
    # A refusal is an answer, not the end: the page may ask again with the right token.
    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(str(lam.ws_url))
            stream = WebSocketStream(lam, ws)
            try:
                refused = await answer_to(stream, {"action": "subscribe", "channel": "queue"})
                assert (refused["status"], refused["error"]["code"]) == (401, "authentication_required")
                queue = await answer_to(
                    stream, {"action": "subscribe", "channel": "queue", "token": STAFF_TOKEN}
                )
                assert queue["type"] == "queue"
                validate(queue)
            finally:
                await ws.close()
                await stream.stop()
                await lam.closed()

    run(scenario())

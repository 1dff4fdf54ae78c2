"""Live push on Lambda: the Chalice app's WebSocket and stream handlers, invoked as Lambda invokes
them, with API Gateway's events (``tests/push/lambda_gateway.py``) and the order book's stream
records (``records_from_feed`` of the SQLite feed, as the local emulator feeds them; a moto
DynamoDB stream in the last test).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import boto3
import pytest
from jsonschema import ValidationError
from moto import mock_aws

from cafe.api import CafeApi, Request, StaffGuard, build_api
from cafe.api.parsing import MAX_FRAME_BYTES
from cafe.config import Config, ConfigurationError
from cafe.domain.menu import load_menu
from cafe.domain.orders import Status
from cafe.live import messages
from cafe.live.connections import MAX_SUBSCRIPTIONS, MemoryConnections, sent_digest
from cafe.live.connections_dynamodb import DynamoDBConnections
from cafe.live.connections_sqlite import SQLiteConnections
from cafe.live.poster import GatewayPoster
from cafe.live.stream import changes_from_records, records_from_feed
from cafe.live.websocket import LiveSockets
from cafe.observability import Telemetry
from cafe.service import CafeService, LineRequest, OrderRequest
from cafe.stores.base import StoreUnavailable
from cafe.stores.dynamodb import DynamoDBStore, create_table
from cafe.stores.memory import MemoryStore
from cafe.stores.schema import create_connections_table_arguments
from cafe.stores.sqlite import SQLiteStore
from tests.api.clients import ChaliceClient
from tests.contract.dynamodb_factory import DUMMY_ENVIRONMENT, REGION
from tests.push.conftest import AMERICANO, STAFF_TOKEN
from tests.push.lambda_gateway import CALLBACK_URL, Gateway, LambdaContext, ws_event
from tests.push.live import validate

WS_URL = "wss://abc123.execute-api.us-east-1.amazonaws.com/live"
GUARD_FAILURES = 3


def make_api(store: Any, *, runtime: str = "lambda", websocket_url: str | None = WS_URL) -> CafeApi:
    return CafeApi(
        CafeService(store, load_menu(), zone=ZoneInfo("Asia/Seoul")),
        runtime=runtime,
        staff_token=STAFF_TOKEN,
        telemetry=Telemetry(runtime),
        guard=StaffGuard(max_failures=GUARD_FAILURES),
        websocket_url=websocket_url,
    )


@pytest.fixture(scope="module")
def chalice() -> ChaliceClient:
    return ChaliceClient()


@dataclass
class LambdaCafe:
    """The Lambda functions of one café on one SQLite file, and API Gateway in front of them."""

    module: ModuleType
    http: ChaliceClient
    store: SQLiteStore
    connections: SQLiteConnections
    gateway: Gateway
    cursor: int = 0
    batches: list[list[dict[str, Any]]] = field(default_factory=list)

    # -- API Gateway's WebSocket API -------------------------------------------------------------
    def connect(self, connection_id: str) -> None:
        self.gateway.open.add(connection_id)
        assert self.module.ws_connect(ws_event("$connect", connection_id), LambdaContext()) == {
            "statusCode": 200
        }

    def send(self, connection_id: str, frame: Any, *, ip: str = "203.0.113.10") -> list[dict[str, Any]]:
        """One client frame (a document, or raw text); what the client was sent back."""
        body = frame if isinstance(frame, str) else json.dumps(frame)
        answer = self.module.ws_message(ws_event("$default", connection_id, body, ip=ip), LambdaContext())
        assert answer == {"statusCode": 200}
        return self.gateway.messages(connection_id)

    def subscribe(self, connection_id: str, **frame: str) -> dict[str, Any]:
        self.connect(connection_id)
        document = {"action": "subscribe", **frame}
        validate(document, "subscribe")  # a frame the AsyncAPI document describes
        [first] = self.send(connection_id, document)
        return first

    def leave(self, connection_id: str) -> None:
        self.gateway.open.discard(connection_id)
        self.module.ws_disconnect(ws_event("$disconnect", connection_id), LambdaContext())

    # -- the table's stream, as the emulator's poller runs it --------------------------------------
    def stream(self, limit: int = 100) -> None:
        """Hand the new feed events (up to ``limit``: the mapping's batch) to the stream function;
        the cursor moves only on success."""
        events = self.store.feed_after(self.cursor, limit)
        if events:
            records = records_from_feed(events)
            self.module.order_book_stream({"Records": records}, LambdaContext())
            self.batches.append(records)
            self.cursor = events[-1].sequence

    # -- the HTTP function ------------------------------------------------------------------------
    def call(self, method: str, path: str, document: Any = None, *, staff: bool = False) -> Any:
        headers = {"Content-Type": "application/json"}
        if staff:
            headers["Authorization"] = f"Bearer {STAFF_TOKEN}"
        body = None if document is None else json.dumps(document).encode()
        return self.http.request(method, path, body=body, headers=headers)

    def place(self) -> dict[str, Any]:
        answer = self.call("POST", "/orders", AMERICANO)
        assert answer.status == 201, answer.body
        return dict(answer.json())

    def advance(self, order_id: str, status: str) -> dict[str, Any]:
        answer = self.call("POST", f"/orders/{order_id}/status", {"status": status}, staff=True)
        assert answer.status == 200, answer.body
        return dict(answer.json())


@pytest.fixture
def lam(chalice: ChaliceClient, tmp_path: Path) -> Iterator[LambdaCafe]:
    module = chalice.module
    store = SQLiteStore(str(tmp_path / "cafe.sqlite3"))
    connections = SQLiteConnections(store)
    gateway = Gateway()
    api = make_api(store)
    originals = module.cafe_api, module._live
    module.cafe_api = api
    module._live = LiveSockets(api, connections, GatewayPoster(CALLBACK_URL, client=gateway.client()))
    try:
        yield LambdaCafe(module, chalice, store, connections, gateway, cursor=store.latest_sequence())
    finally:
        module.cafe_api, module._live = originals
        store.close()


# -- GET /live ------------------------------------------------------------------------------------
def test_live_offers_the_websocket_api_the_configuration_names(lam: LambdaCafe):
    answer = lam.call("GET", "/live")
    assert (answer.status, answer.json()) == (200, {"transport": "websocket", "url": WS_URL})
    assert Config.from_env({"CAFE_WS_URL": WS_URL}).websocket_url == WS_URL
    assert Config.from_env({}).websocket_url is None


def test_the_pages_may_connect_to_the_websocket_apis_origin(lam: LambdaCafe):
    # API Gateway serves the WebSocket API on a host of its own: the CSP must name it, or the
    # browser refuses the connection and the pages fall back to polling.
    policy = lam.call("GET", "/").headers["content-security-policy"]
    assert "connect-src 'self' wss://abc123.execute-api.us-east-1.amazonaws.com;" in policy
    unconfigured = make_api(MemoryStore(), websocket_url=None).handle(Request("GET", "/"))
    assert "connect-src 'self';" in unconfigured.headers["Content-Security-Policy"]


@pytest.mark.parametrize("url", ["https://abc.example/live", "wss://", "wss://a b/x", "wss://h;script-src *"])
def test_a_websocket_url_that_is_not_one_is_refused_at_start_up(url: str):
    with pytest.raises(ConfigurationError):
        Config.from_env({"CAFE_WS_URL": url})


def test_a_runtime_that_streams_keeps_sse_whatever_the_configuration():
    api = make_api(MemoryStore(), runtime="fargate")
    answer = api.handle(Request("GET", "/live", streams=True))
    assert answer.json() == {"transport": "sse", "url": "/events"}
    assert make_api(MemoryStore(), websocket_url=None).handle(Request("GET", "/live")).json() == {
        "transport": "none"
    }


# -- subscribing ----------------------------------------------------------------------------------
def test_connect_records_nothing(lam: LambdaCafe):
    lam.connect("c-quiet")
    assert lam.connections.channels_of("c-quiet") == set()
    assert lam.gateway.messages("c-quiet") == []


def test_order_subscriber_gets_current_state_then_each_change_once_in_order(lam: LambdaCafe):
    order = lam.place()
    first = lam.subscribe("c1", order_id=order["id"])
    assert first == {"type": "order", "order": lam.call("GET", f"/orders/{order['id']}").json()}
    validate(first)
    lam.stream()  # the placement itself: the subscriber already has it
    assert lam.gateway.messages("c1") == []
    answered = [lam.advance(order["id"], status) for status in ("PREPARING", "READY", "COMPLETED")]
    lam.stream()
    assert lam.gateway.messages("c1") == [{"type": "order", "order": body} for body in answered]
    lam.stream()  # nothing new: nothing sent
    assert lam.gateway.messages("c1") == []


def test_a_change_delivered_while_subscribing_is_not_missed(lam: LambdaCafe, tmp_path: Path):
    order = lam.place()
    lam.stream()
    barista = make_api(SQLiteStore(str(tmp_path / "cafe.sqlite3")), runtime="ec2")
    read = lam.store.get
    reads: list[int] = []

    def get(order_id: str) -> Any:
        found = read(order_id)
        reads.append(found.version)
        if len(reads) == 2:
            # After the state was read, before the subscription is recorded: the change is made
            # and its stream batch handled while nobody is a member yet.
            barista.service.advance(order_id, Status.PREPARING)
            lam.stream()
        return found

    with mock.patch.object(lam.store, "get", side_effect=get):
        first = lam.subscribe("c1", order_id=order["id"])
    assert first["order"]["status"] == "PREPARING"  # the newer state, read again
    assert lam.gateway.messages("c1") == []
    lam.advance(order["id"], "READY")
    lam.stream()
    assert [message["order"]["version"] for message in lam.gateway.messages("c1")] == [3]


@pytest.mark.parametrize("channel", ["board", "queue"])
def test_a_new_subscriber_is_not_sent_a_change_its_first_message_showed(lam: LambdaCafe, channel: str):
    order = lam.place()
    lam.stream()
    # Committed; its stream batch comes a poll later (up to 250 ms, then the invocation).
    moved = lam.advance(order["id"], "PREPARING")
    token = {"token": STAFF_TOKEN} if channel == "queue" else {}
    first = lam.subscribe("late", channel=channel, **token)
    if channel == "board":
        assert order["number"] in first["board"]["preparing"]
    else:
        assert moved in first["queue"]["orders"]
    lam.stream()  # that batch: nothing the subscriber has not seen
    assert lam.gateway.messages("late") == []


@pytest.mark.parametrize("channel", ["board", "queue"])
def test_each_stale_batch_is_skipped_until_a_change_is_news(lam: LambdaCafe, channel: str):
    first_order, second_order = lam.place(), lam.place()
    lam.stream()
    # Two changes committed, then streamed one batch each, both after the subscription.
    lam.advance(first_order["id"], "PREPARING")
    lam.advance(second_order["id"], "PREPARING")
    token = {"token": STAFF_TOKEN} if channel == "queue" else {}
    lam.subscribe("late", channel=channel, **token)
    lam.stream(limit=1)
    lam.stream(limit=1)
    assert lam.gateway.messages("late") == []
    ready = lam.advance(first_order["id"], "READY")
    lam.stream()
    [news] = lam.gateway.messages("late")
    if channel == "board":
        assert news["board"] == {"preparing": [second_order["number"]], "ready": [first_order["number"]]}
    else:
        assert ready in news["queue"]["orders"]


def test_a_board_back_to_a_subscribers_first_message_is_still_delivered(lam: LambdaCafe):
    order = lam.place()
    lam.stream()
    first = lam.subscribe("screen", channel="board")
    assert first["board"] == {"preparing": [], "ready": []}
    lam.advance(order["id"], "PREPARING")
    lam.stream()
    lam.advance(order["id"], "READY")
    lam.advance(order["id"], "COMPLETED")
    lam.stream()  # the board is as it was first sent: A → B → A
    assert [message["board"] for message in lam.gateway.messages("screen")] == [
        {"preparing": [order["number"]], "ready": []},
        {"preparing": [], "ready": []},
    ]


def test_a_queue_back_to_a_subscribers_first_message_is_still_delivered(lam: LambdaCafe):
    lam.place()
    first = lam.subscribe("barista", channel="queue", token=STAFF_TOKEN)  # the placement is not streamed yet
    lam.stream()  # nothing new to this subscriber
    assert lam.gateway.messages("barista") == []
    assert lam.call("PUT", "/store", {"open": False, "max_waiting": 20}, staff=True).status == 200
    lam.stream()
    assert lam.call("PUT", "/store", {"open": True, "max_waiting": 20}, staff=True).status == 200
    lam.stream()
    stores = [message["store"] for message in lam.gateway.messages("barista")]
    assert stores == [{**first["store"], "open": False}, first["store"]]


def test_a_subscription_clears_its_first_messages_digest_once_and_only_when_needed(lam: LambdaCafe):
    # The cost of the rule: no write per change and subscriber, one per subscription at most.
    order = lam.place()
    lam.stream()
    lam.subscribe("screen", channel="board")
    lam.subscribe("idle", channel="board")
    lam.subscribe("barista", channel="queue", token=STAFF_TOKEN)
    screen = lam.connections.subscriptions("board")["screen"]
    assert screen.sent is not None and screen.since == 0
    lam.leave("idle")  # gone before any change: nothing to clear
    with mock.patch.object(lam.connections, "clear_sent", wraps=lam.connections.clear_sent) as clear:
        for status in ("PREPARING", "READY", "COMPLETED"):
            lam.advance(order["id"], status)
            lam.stream()
        lam.call("PUT", "/store", {"open": False, "max_waiting": 20}, staff=True)
        lam.stream()
    assert [call.args for call in clear.call_args_list] == [
        ("board", {"screen": screen.sent}),
        ("queue", {"barista": mock.ANY}),
    ]
    assert [message["board"] for message in lam.gateway.messages("screen")] == [
        {"preparing": [order["number"]], "ready": []},
        {"preparing": [], "ready": [order["number"]]},
        {"preparing": [], "ready": []},
    ]
    assert len(lam.gateway.messages("barista")) == 4
    assert lam.connections.subscriptions("board")["screen"].sent is None


def test_a_board_change_delivered_while_subscribing_is_not_missed(lam: LambdaCafe, tmp_path: Path):
    order = lam.place()
    lam.stream()
    barista = make_api(SQLiteStore(str(tmp_path / "cafe.sqlite3")), runtime="ec2")
    read = lam.store.list_by_statuses
    reads: list[Any] = []

    def list_by_statuses(*args: Any) -> Any:
        found = read(*args)
        reads.append(found)
        if len(reads) == 1:
            # After the board was read, before the subscription is recorded: the change is made
            # and its stream batch handled while nobody is a member yet.
            barista.service.advance(order["id"], Status.PREPARING)
            lam.stream()
        return found

    with mock.patch.object(lam.store, "list_by_statuses", side_effect=list_by_statuses):
        first = lam.subscribe("screen", channel="board")
    assert first["board"] == {"preparing": [order["number"]], "ready": []}  # the newer, read again
    assert lam.connections.subscriptions("board")["screen"].sent == sent_digest(
        messages.board_message(lam.module.cafe_api.service)
    )
    lam.stream()
    assert lam.gateway.messages("screen") == []
    lam.advance(order["id"], "READY")
    lam.stream()
    assert [message["board"] for message in lam.gateway.messages("screen")] == [
        {"preparing": [], "ready": [order["number"]]}
    ]


def test_messages_are_the_sse_hubs_bytes(lam: LambdaCafe):
    order = lam.place()
    lam.subscribe("c1", order_id=order["id"])
    lam.stream()
    lam.advance(order["id"], "PREPARING")
    [event] = lam.store.feed_after(lam.cursor)
    lam.stream()
    # What cafe.live.hub sends as an SSE event's data for this feed event, byte for byte.
    assert lam.gateway.frames["c1"] == [messages.order_message(event.body)]
    assert lam.gateway.frames["c1"][0] == '{"type":"order","order":' + event.body + "}"


def test_board_subscriber_gets_the_board_when_the_board_changes(lam: LambdaCafe):
    first = lam.subscribe("screen", channel="board")
    assert first == {"type": "board", "board": lam.call("GET", "/pickup").json()}
    validate(first)
    order = lam.place()
    lam.stream()
    assert lam.gateway.messages("screen") == []  # a new order is not on the board
    lam.advance(order["id"], "PREPARING")
    lam.stream()
    lam.advance(order["id"], "READY")
    lam.stream()
    boards = [message["board"] for message in lam.gateway.messages("screen")]
    assert boards == [
        {"preparing": [order["number"]], "ready": []},
        {"preparing": [], "ready": [order["number"]]},
    ]


def test_queue_subscriber_gets_orders_and_store(lam: LambdaCafe):
    first = lam.subscribe("barista", channel="queue", token=STAFF_TOKEN)
    assert first["type"] == "queue"
    assert (
        first["queue"]
        == lam.call("GET", "/orders?status=PLACED,PREPARING,READY&limit=500", staff=True).json()
    )
    assert first["store"] == lam.call("GET", "/store").json()
    validate(first)
    order = lam.place()
    lam.stream()
    [queued] = lam.gateway.messages("barista")
    assert [item["id"] for item in queued["queue"]["orders"]] == [order["id"]]
    assert lam.call("PUT", "/store", {"open": False, "max_waiting": 7}, staff=True).status == 200
    lam.stream()
    [closed] = lam.gateway.messages("barista")
    assert closed["store"] == {"open": False, "max_waiting": 7, "waiting": 1}


def test_changes_made_through_another_runtime_reach_lambda_subscribers(lam: LambdaCafe, tmp_path: Path):
    # One order book, one feed: an order placed on EC2 and moved on Fargate (their own APIs on
    # the same file) reaches a subscriber connected through API Gateway.
    ec2 = make_api(SQLiteStore(str(tmp_path / "cafe.sqlite3")), runtime="ec2", websocket_url=None)
    fargate = make_api(SQLiteStore(str(tmp_path / "cafe.sqlite3")), runtime="fargate", websocket_url=None)
    placed = ec2.handle(Request("POST", "/orders", body=json.dumps(AMERICANO).encode()))
    assert placed.status == 201
    order = placed.json()
    lam.subscribe("c1", order_id=order["id"])
    lam.subscribe("screen", channel="board")
    moved = fargate.handle(
        Request(
            "POST",
            f"/orders/{order['id']}/status",
            headers={"authorization": f"Bearer {STAFF_TOKEN}"},
            body=b'{"status": "PREPARING"}',
        )
    )
    assert moved.status == 200
    lam.stream()
    assert lam.gateway.messages("c1")[-1] == {"type": "order", "order": moved.json()}
    assert lam.gateway.messages("screen") == [
        {"type": "board", "board": {"preparing": [order["number"]], "ready": []}}
    ]


# -- refusals -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "malformed_request"),
        ("[1, 2]", "malformed_request"),
        ("", "malformed_request"),
        (
            json.dumps({"action": "subscribe", "channel": "board", "pad": "x" * MAX_FRAME_BYTES}),
            "payload_too_large",
        ),
        ({"action": "unsubscribe", "channel": "board"}, "validation_failed"),
        ({"channel": "board"}, "validation_failed"),
        ({"action": 7}, "validation_failed"),
        ({"action": "subscribe"}, "validation_failed"),
        ({"action": "subscribe", "channel": "nope"}, "validation_failed"),
        ({"action": "subscribe", "channel": "board", "order_id": "abc"}, "validation_failed"),
        ({"action": "subscribe", "channel": "board", "extra": 1}, "validation_failed"),
        ({"action": "subscribe", "channel": "board", "token": STAFF_TOKEN}, "validation_failed"),
        ({"action": "subscribe", "order_id": "\u0000bad"}, "validation_failed"),
        ({"action": "subscribe", "order_id": 12}, "validation_failed"),
        ({"action": "ping", "extra": 1}, "validation_failed"),
        ({"action": "subscribe", "order_id": "no-such-order"}, "order_not_found"),
        ({"action": "subscribe", "channel": "queue"}, "authentication_required"),
        ({"action": "subscribe", "channel": "queue", "token": "wrong"}, "not_permitted"),
    ],
)
def test_bad_frames_get_an_error_with_the_http_apis_code(lam: LambdaCafe, frame: Any, code: str):
    lam.connect("c1")
    answer = lam.send("c1", frame, ip="198.51.100.1")
    [message] = answer
    assert message["type"] == "error"
    assert message["error"]["code"] == code
    # The HTTP API's status for the same refusal: what a page tells "refused" from "not now" by.
    expected = {"order_not_found": 404, "authentication_required": 401, "not_permitted": 403}
    assert message["status"] == expected.get(code, message["status"]) and 400 <= message["status"] < 500
    validate(message)
    if isinstance(frame, dict) and code not in (
        "order_not_found",
        "authentication_required",
        "not_permitted",
    ):
        with pytest.raises(ValidationError):  # the AsyncAPI document refuses it too
            validate(
                frame, frame.get("action") if frame.get("action") in ("subscribe", "ping") else "subscribe"
            )
    assert lam.connections.channels_of("c1") == set()  # nothing was subscribed
    assert lam.send("c1", {"action": "ping"}) == [{"type": "pong"}]  # and the connection still works


def test_a_binary_frame_is_read_like_a_text_frame(lam: LambdaCafe):
    lam.connect("c1")
    event = ws_event("$default", "c1", base64.b64encode(b'{"action":"ping"}').decode())
    event["isBase64Encoded"] = True
    lam.module.ws_message(event, LambdaContext())
    [pong] = lam.gateway.messages("c1")
    assert pong == {"type": "pong"}
    validate(pong)
    validate({"action": "ping"}, "ping")


def test_staff_queue_refusals_count_towards_the_shared_lockout(lam: LambdaCafe):
    lam.connect("c1")
    ip = "198.51.100.66"
    wrong = {"action": "subscribe", "channel": "queue", "token": "wrong"}
    codes = [lam.send("c1", wrong, ip=ip)[0]["error"]["code"] for _ in range(GUARD_FAILURES)]
    assert codes == ["not_permitted"] * GUARD_FAILURES
    [locked] = lam.send("c1", {"action": "subscribe", "channel": "queue", "token": STAFF_TOKEN}, ip=ip)
    assert locked["error"]["code"] == "staff_locked_out"
    assert locked["error"]["details"]["retry_after_seconds"] > 0
    assert lam.connections.members("queue") == {}
    # Another client is not locked out by this one.
    [queue] = lam.send(
        "c1", {"action": "subscribe", "channel": "queue", "token": STAFF_TOKEN}, ip="198.51.100.67"
    )
    assert queue["type"] == "queue"


def test_a_connection_holds_at_most_the_subscription_limit(lam: LambdaCafe):
    orders = [lam.place() for _ in range(MAX_SUBSCRIPTIONS)]
    lam.connect("flood")
    for order in orders:
        [state] = lam.send("flood", {"action": "subscribe", "order_id": order["id"]})
        assert state["type"] == "order"
    [refused] = lam.send("flood", {"action": "subscribe", "channel": "board"})
    assert refused["error"]["code"] == "too_many_subscriptions"
    assert lam.connections.members("board") == {}
    # Others are unaffected.
    assert lam.subscribe("other", channel="board")["type"] == "board"


# -- connections that go ---------------------------------------------------------------------------
def test_disconnect_removes_every_subscription(lam: LambdaCafe):
    order = lam.place()
    lam.subscribe("c1", order_id=order["id"])
    lam.send("c1", {"action": "subscribe", "channel": "board"})
    lam.leave("c1")
    assert lam.connections.channels_of("c1") == set()
    assert lam.connections.members("board") == {}


def test_a_gone_connection_is_deleted_and_the_others_still_get_theirs(lam: LambdaCafe):
    order = lam.place()
    lam.subscribe("stays", order_id=order["id"])
    lam.subscribe("vanished", order_id=order["id"])
    lam.gateway.open.discard("vanished")  # closed without a $disconnect reaching us
    lam.stream()
    lam.advance(order["id"], "PREPARING")
    lam.stream()
    assert lam.gateway.messages("stays")[-1]["order"]["status"] == "PREPARING"
    assert lam.connections.channels_of("vanished") == set()
    assert list(lam.connections.members(f"order#{order['id']}")) == ["stays"]


def test_a_failing_post_is_skipped_not_fatal(lam: LambdaCafe):
    order = lam.place()
    lam.subscribe("flaky", order_id=order["id"])
    lam.subscribe("fine", order_id=order["id"])
    lam.stream()
    lam.gateway.messages("fine")
    lam.gateway.failing.add("flaky")
    lam.advance(order["id"], "PREPARING")
    lam.stream()  # does not raise: a retried batch would post to everyone again
    assert [message["order"]["status"] for message in lam.gateway.messages("fine")] == ["PREPARING"]
    assert sorted(lam.connections.members(f"order#{order['id']}")) == ["fine", "flaky"]  # not gone


def test_a_store_fault_fails_the_batch_so_lambda_retries_it(lam: LambdaCafe):
    order = lam.place()
    lam.subscribe("screen", channel="board")
    lam.stream()
    lam.advance(order["id"], "PREPARING")
    fault = StoreUnavailable(OSError("the order book is unreachable"))
    with mock.patch.object(lam.store, "list_by_statuses", side_effect=fault), pytest.raises(StoreUnavailable):
        lam.stream()
    assert lam.gateway.messages("screen") == []  # nothing posted from a failed batch
    lam.stream()  # the retry: the cursor did not move
    assert lam.gateway.messages("screen") == [
        {"type": "board", "board": {"preparing": [order["number"]], "ready": []}}
    ]


def test_a_subscription_whose_state_cannot_be_read_is_refused_and_not_kept(lam: LambdaCafe):
    fault = StoreUnavailable(OSError("the order book is unreachable"))
    lam.connect("c1")
    with mock.patch.object(lam.store, "list_by_statuses", side_effect=fault):
        [refused] = lam.send("c1", {"action": "subscribe", "channel": "board"})
    assert refused["error"]["code"] == "unavailable"
    assert lam.connections.members("board") == {}


def test_a_fault_of_ours_is_an_internal_error_message_not_a_crash(lam: LambdaCafe):
    lam.connect("c1")
    with mock.patch.object(lam.store, "get", side_effect=RuntimeError("a bug")):
        [refused] = lam.send("c1", {"action": "subscribe", "order_id": "some-order"})
    assert refused["error"]["code"] == "internal_error"
    assert lam.send("c1", {"action": "ping"}) == [{"type": "pong"}]


# -- configuration and the stream's records -------------------------------------------------------
def test_live_sockets_are_configured_from_the_environment(tmp_path: Path):
    api = make_api(SQLiteStore(str(tmp_path / "cafe.sqlite3")))
    sockets = LiveSockets.from_env(api, {"CAFE_WS_CALLBACK_URL": CALLBACK_URL, "AWS_REGION": "eu-west-1"})
    assert isinstance(sockets.connections, SQLiteConnections)
    assert isinstance(sockets.poster, GatewayPoster)
    assert (sockets.poster.endpoint_url, sockets.poster.region) == (CALLBACK_URL, "eu-west-1")
    with pytest.raises(ConfigurationError):
        LiveSockets.from_env(api, {})


def test_build_api_reads_the_websocket_url():
    with mock.patch.dict(os.environ, {"CAFE_STORE": "memory", "CAFE_WS_URL": WS_URL}):
        api = build_api("lambda")
    assert api.handle(Request("GET", "/live")).json() == {"transport": "websocket", "url": WS_URL}


def test_records_from_feed_are_dynamodb_stream_records_that_decode_to_the_feed(tmp_path: Path):
    store = SQLiteStore(str(tmp_path / "cafe.sqlite3"))
    api = make_api(store)
    order = api.service.place_order(OrderRequest(customer="Lee", lines=(LineRequest("cafe-latte", 2),)))
    api.service.advance(order.id, Status.PREPARING)
    api.service.update_settings(open=True, max_waiting=9)
    api.service.set_item_available("cafe-latte", False)
    events = store.feed_after(0)
    records = records_from_feed(events)
    assert [record["eventName"] for record in records] == ["INSERT", "MODIFY", "MODIFY", "MODIFY"]
    for record in records:
        assert record["eventSource"] == "aws:dynamodb"
        assert record["dynamodb"]["StreamViewType"] == "NEW_IMAGE"
        assert set(record["dynamodb"]["Keys"]) == {"pk", "sk"}
    sequences = [record["dynamodb"]["SequenceNumber"] for record in records]
    assert sequences == sorted(sequences)
    changes = changes_from_records(records)
    assert [changed.as_json for changed in changes.orders] == [event.body for event in events[:2]]
    assert changes.store
    assert not changes_from_records(records[:2]).store
    assert changes_from_records([{**records[0], "eventName": "REMOVE"}]).orders == []
    store.close()


def test_dynamodb_stream_records_reach_subscribers(tmp_path: Path):
    # The AWS path end to end on moto: DynamoDB store, its table's stream, the connections table.
    gateway = Gateway()
    with mock.patch.dict(os.environ, DUMMY_ENVIRONMENT), mock_aws():
        client = boto3.session.Session().client("dynamodb", region_name=REGION)
        create_table(client, "orders")
        client.create_table(**create_connections_table_arguments("connections"))
        api = make_api(DynamoDBStore("orders", client=client))
        sockets = LiveSockets(
            api,
            DynamoDBConnections("connections", client=client),
            GatewayPoster(CALLBACK_URL, client=gateway.client()),
        )
        # The endpoint named: moto routes only the classic streams host, not the one botocore's
        # endpoint rules resolve to at request time.
        streams = boto3.session.Session().client(
            "dynamodbstreams",
            region_name=REGION,
            endpoint_url=f"https://streams.dynamodb.{REGION}.amazonaws.com",
        )
        arn = client.describe_table(TableName="orders")["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")[
            "ShardIterator"
        ]

        def stream() -> None:
            nonlocal iterator
            answer = streams.get_records(ShardIterator=iterator)
            iterator = answer["NextShardIterator"]
            sockets.on_records(answer["Records"])

        placed = api.handle(Request("POST", "/orders", body=json.dumps(AMERICANO).encode()))
        order = placed.json()
        for connection_id, frame in (
            ("c1", {"action": "subscribe", "order_id": order["id"]}),
            ("screen", {"action": "subscribe", "channel": "board"}),
            ("barista", {"action": "subscribe", "channel": "queue", "token": STAFF_TOKEN}),
        ):
            gateway.open.add(connection_id)
            sockets.message(connection_id, ws_event("$default", connection_id, json.dumps(frame)))
            assert gateway.messages(connection_id)[0]["type"] in ("order", "board", "queue")
        stream()  # the placement (and its counter and queue items)
        staff = {"authorization": f"Bearer {STAFF_TOKEN}"}
        moved = api.handle(
            Request("POST", f"/orders/{order['id']}/status", headers=staff, body=b'{"status":"PREPARING"}')
        )
        assert moved.status == 200
        stream()
        assert gateway.messages("c1")[-1] == {"type": "order", "order": moved.json()}
        assert gateway.messages("screen") == [
            {"type": "board", "board": {"preparing": [order["number"]], "ready": []}}
        ]
        assert gateway.messages("barista")[-1]["queue"]["orders"][0]["status"] == "PREPARING"
        sockets.disconnect("c1")
        assert sockets.connections.channels_of("c1") == set()


def test_memory_connections_serve_a_single_process_cafe():
    store = MemoryStore()
    gateway = Gateway()
    api = make_api(store)
    sockets = LiveSockets(api, MemoryConnections(), GatewayPoster(CALLBACK_URL, client=gateway.client()))
    order = api.service.place_order(OrderRequest(customer="Kim", lines=(LineRequest("americano", 1),)))
    gateway.open.add("c1")
    sockets.message(
        "c1", ws_event("$default", "c1", json.dumps({"action": "subscribe", "order_id": order.id}))
    )
    assert gateway.messages("c1") == [{"type": "order", "order": json.loads(order.as_json)}]

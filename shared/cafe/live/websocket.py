"""Live push on Lambda: what the four handlers of ``chalice_app/app.py`` do, without Chalice.

API Gateway's WebSocket API holds the clients' connections; no function holds anything
between invocations, so:

- ``connect`` (``$connect``): accept. Nothing is written: a connection that never subscribes
  costs no write, and the first subscription creates its item.
- ``message`` (``$default``): one client frame. ``subscribe`` is checked exactly as
  ``GET /events`` is (``CafeApi.live_frame``: the same parser rules, 404 for an unknown order,
  the staff token through the same lockout), recorded in ``Connections`` (at most
  ``MAX_SUBSCRIPTIONS`` per connection) with what it is sent, then answered with the current
  state; ``ping`` with a pong. A refusal is a ``{"type":"error","status":<HTTP status>,
  "error":{...}}`` message: the HTTP API's status and error object for the same refusal.
- ``disconnect`` (``$disconnect``): forget the connection and its subscriptions.
- ``on_records`` (the table's stream): each changed order to its subscribers, in order; if
  orders changed the board (read once per batch) to the board's subscribers; if orders or the
  store changed the queue (read once per batch) to the baristas. Each subscriber gets what is
  news to it: no order version up to the one it was sent when subscribing, no board or queue
  equal to the first message it was sent while that is still the last one it was sent (a
  change committed before it subscribed is streamed only after: the first message showed it).
  A store fault while reading (the subscribers, the board, the queue) or clearing a ``sent``
  raises, so Lambda retries the batch (delivery is at least once; all of these come before the
  first post); a post that fails is logged and skipped, and a connection that is gone is
  forgotten.

Messages are ``cafe.live.messages``', the very text the SSE hub sends.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from cafe.api.application import CafeApi
from cafe.api.http import Request, Response
from cafe.api.parsing import LiveFrame
from cafe.config import ConfigurationError
from cafe.domain.orders import Order
from cafe.errors import CafeError
from cafe.live import messages
from cafe.live.connections import Connections, channel_name, connections_for, sent_digest
from cafe.live.poster import Delivery, GatewayPoster, Poster
from cafe.live.stream import changes_from_records
from cafe.service import PICKUP_STATUSES, CafeService

#: What every handler answers API Gateway: accepted (a $connect answered otherwise is refused).
ACCEPTED: Final = {"statusCode": 200}


def touches_board(order: Order) -> bool:
    """Did this change move the order onto, along or off the pickup board? (Placing an order,
    or cancelling one still waiting, leaves the board as it was.)"""
    before = order.history[-2].status if len(order.history) > 1 else None
    return order.status in PICKUP_STATUSES or before in PICKUP_STATUSES


class LiveSockets:
    def __init__(self, api: CafeApi, connections: Connections, poster: Poster) -> None:
        self.api = api
        self.connections = connections
        self.poster = poster

    @classmethod
    def from_env(cls, api: CafeApi, env: Mapping[str, str] | None = None) -> LiveSockets:
        """The connections beside ``api``'s store, and a poster to ``CAFE_WS_CALLBACK_URL``."""
        env = os.environ if env is None else env
        callback = env.get("CAFE_WS_CALLBACK_URL")
        if not callback:
            raise ConfigurationError(
                "CAFE_WS_CALLBACK_URL must name the WebSocket API's @connections endpoint"
            )
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        return cls(api, connections_for(api.service.store, env), GatewayPoster(callback, region=region))

    # -- the WebSocket routes ----------------------------------------------------------
    def connect(self, connection_id: str) -> dict[str, Any]:
        return dict(ACCEPTED)

    def message(self, connection_id: str, event: Mapping[str, Any]) -> dict[str, Any]:
        request = self._request(event)
        try:
            checked = self.api.live_frame(request)
        except Exception:  # a fault of ours or an unexpected store error: the client is told
            self.api.telemetry.log("exception", "live message failed")
            checked = self.api.refuse(request, None)
        if isinstance(checked, Response):
            self._send(connection_id, messages.error_message(checked.json()["error"], checked.status))
        elif checked.action == "ping":
            self._send(connection_id, messages.PONG)
        else:
            self._send(connection_id, *self._subscribe(connection_id, checked, request))
        return dict(ACCEPTED)

    def disconnect(self, connection_id: str) -> dict[str, Any]:
        self._forget(connection_id)  # API Gateway never retries a $disconnect: failing helps nobody
        return dict(ACCEPTED)

    def _subscribe(self, connection_id: str, frame: LiveFrame, request: Request) -> list[str]:
        """Record the subscription and return the current state to send (or the refusal).

        The state is read first, so that the subscription records what its subscriber is sent:
        an order's version (``since``: the stream handler sends it no version up to it, so the
        usual "place, then watch" gets no echo of the placement), or the board's or queue's
        digest (``sent``: the stream handler does not post that board or queue again while it
        is the last one sent; a change committed before the subscription, streamed after it, is
        already in this first message). Then it is read again, in case it changed before the
        subscription counted (a change whose batch the stream handler finished before it saw
        this member), and the newer state is sent and recorded: a subscriber may get a state
        twice in that race of milliseconds, never miss a change. (An order subscription reads
        the order three times in all: ``CafeApi.live_frame`` checks it exists.)
        """
        service = self.api.service
        channel = channel_name(frame.channel, frame.order_id)
        added = False
        try:
            _, marker = messages.current(service, frame.channel, frame.order_id)
            self._record(connection_id, channel, marker)
            added = True
            latest, now = messages.current(service, frame.channel, frame.order_id)
            if now != marker:  # rare: it moved meanwhile; send (and record) the newer
                self._record(connection_id, channel, now)
            return [latest]
        except Exception as error:
            if added:
                self._forget(connection_id, channel)
            if not isinstance(error, CafeError):
                self.api.telemetry.log("exception", "live subscription failed")
            refusal = self.api.refuse(request, error if isinstance(error, CafeError) else None)
            return [messages.error_message(refusal.json()["error"], refusal.status)]

    def _record(self, connection_id: str, channel: str, marker: int | str) -> None:
        """Subscribe, with what the subscriber is sent: an order's version, or the board's or
        queue's message (``messages.current``'s marker), of which only the digest is kept."""
        if isinstance(marker, int):
            self.connections.add(connection_id, channel, since=marker)
        else:
            self.connections.add(connection_id, channel, sent=sent_digest(marker))

    def _request(self, event: Mapping[str, Any]) -> Request:
        """The frame as a café request from API Gateway's client (the staff lockout's key)."""
        context = event.get("requestContext", {})
        body = event.get("body") or ""
        raw = body.encode()
        if event.get("isBase64Encoded"):  # a binary frame: read like text (not base64: refused as such)
            with contextlib.suppress(binascii.Error):
                raw = base64.b64decode(body, validate=True)
        return Request(
            method=str(context.get("eventType", "MESSAGE")),
            path=str(context.get("routeKey", "$default")),
            body=raw,
            request_id=str(context.get("requestId", "")),
            peer=str(context.get("identity", {}).get("sourceIp") or ""),
            # As for the HTTP API (chalice_app/app.py): API Gateway names its domain and serves TLS only.
            scheme="https" if context.get("domainName") else "http",
        )

    def _send(self, connection_id: str, *sent: str) -> None:
        self._settle(self.poster.deliver({connection_id: list(sent)}))

    def _forget(self, connection_id: str, channel: str | None = None) -> None:
        """Best effort: what is not removed expires by TTL, and a post to it finds it gone."""
        try:
            if channel is None:
                self.connections.remove_connection(connection_id)
            else:
                self.connections.remove(connection_id, channel)
        except Exception as error:
            self.api.telemetry.log("warning", "live connection not removed", cause=repr(error))

    def _settle(self, delivery: Delivery) -> None:
        for connection_id in delivery.gone:
            self._forget(connection_id)
        for connection_id, fault in delivery.failed:
            self.api.telemetry.log("warning", "live post failed", connection=connection_id, cause=fault)

    # -- the table's stream --------------------------------------------------------------
    def on_records(self, records: Iterable[Mapping[str, Any]]) -> Delivery:
        """Post what the batch changed. Raises on a store fault (Lambda retries the batch)."""
        changes = changes_from_records(records)
        outbox: dict[str, list[str]] = {}

        def post(members: Iterable[str], message: str) -> None:
            for connection_id in members:
                outbox.setdefault(connection_id, []).append(message)

        latest: dict[str, int] = {}
        members: dict[str, dict[str, int]] = {}
        for order in changes.orders:
            if order.version <= latest.get(order.id, 0):
                continue  # a record seen twice in one batch: each version once, in order
            latest[order.id] = order.version
            if order.id not in members:
                members[order.id] = self.connections.members(channel_name("order", order.id))
            behind = [member for member, since in members[order.id].items() if since < order.version]
            post(behind, messages.order_message(order.as_json))
        service = self.api.service
        stale: dict[str, dict[str, str]] = {}  # channel → connection → its ``sent``, to clear

        def post_view(channel: str, read: Callable[[CafeService], str]) -> None:
            """The board or queue, read once, to each subscriber it is news to."""
            subscriptions = self.connections.subscriptions(channel)
            if not subscriptions:
                return
            message = read(service)
            digest = sent_digest(message)
            for connection_id, subscription in subscriptions.items():
                if subscription.sent == digest:
                    continue  # its last message (its first, on subscribing) showed this already
                if subscription.sent is not None:  # posted something else: that digest is stale
                    stale.setdefault(channel, {})[connection_id] = subscription.sent
                post([connection_id], message)

        if any(touches_board(order) for order in changes.orders):
            post_view("board", messages.board_message)
        if changes.orders or changes.store:
            post_view("queue", messages.queue_message)
        # Before any post: a fault here fails the batch with nothing posted, and a digest is never
        # left behind a message posted after it (it would hide a later return to that state).
        for channel, sent in stale.items():
            self.connections.clear_sent(channel, sent)
        delivery = self.poster.deliver(outbox)
        self._settle(delivery)
        return delivery

"""Who listens to what, for the runtime whose connections someone else holds (Lambda).

On Lambda, API Gateway's WebSocket API holds each client's connection and no function instance
lives as long as it, so the subscriptions live in a store that every function reads: the
message function adds them, the stream function reads a channel's members to post to them, the
disconnect function removes them. ``Connections`` is that store; ``connections_for`` picks the
implementation that sits beside the order book (memory, the same SQLite file, or the
connections table on DynamoDB: ``cafe.live.connections_sqlite``, ``cafe.live.connections_dynamodb``).

A channel is named as the DynamoDB table's partition key is (``cafe.stores.schema``
``CONNECTIONS_*``): ``order#<id>``, ``board`` or ``queue``.

A subscription also keeps what its subscriber was sent with its current state, so that the stream
handler never sends it again what it already shows (a change committed before the subscription is
streamed only after it: the whole stream delay, and every reconnect-and-resync meets it):

- an order subscription, ``since``: the order's version sent. The stream handler sends only later
  versions (versions only grow, so this never needs a write after the subscription's own).
- a board or queue subscription, ``sent``: a digest of the message sent (``sent_digest``). The
  stream handler skips the subscriber while the board or queue it would post has that digest,
  and clears it (``clear_sent``) before it first posts it anything else. As long as ``sent`` is
  set it is the *last* message its subscriber was sent, so skipping on it is the SSE hub's own
  rule ("never the one just sent"); once something else was posted it is stale (the board can
  return to it later: A → B → A must deliver the second A) and is gone. Keeping it current
  instead would cost a write per subscriber per change; clearing it costs one conditional write
  per subscription, at most, and none for a subscriber that is never posted a change.
"""

from __future__ import annotations

import hashlib
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Final, NamedTuple

from cafe.config import ConfigurationError
from cafe.errors import InvalidInput
from cafe.stores.base import OrderStore

#: Subscriptions one connection may hold: a page needs one or two; more is a flood.
MAX_SUBSCRIPTIONS: Final = 10
#: API Gateway closes every WebSocket connection after 2 hours ...
CONNECTION_LIFETIME_SECONDS: Final = 2 * 3600
#: ... so a subscription older than that (and this margin) is a leftover of a lost disconnect.
EXPIRY_MARGIN_SECONDS: Final = 15 * 60
ORDER_CHANNEL_PREFIX: Final = "order#"

Clock = Callable[[], float]


class TooManySubscriptions(InvalidInput):
    code = "too_many_subscriptions"


def channel_name(channel: str, order_id: str = "") -> str:
    """The stored name of a subscription's channel: ``order#<id>``, ``board`` or ``queue``."""
    return ORDER_CHANNEL_PREFIX + order_id if channel == "order" else channel


def sent_digest(message: str) -> str:
    """What a board or queue subscription records of the message it was sent: 128 bits of BLAKE2b
    (32 hex characters; a queue message may be hundreds of kilobytes, an item should stay small)."""
    return hashlib.blake2b(message.encode(), digest_size=16).hexdigest()


class Subscription(NamedTuple):
    """A member of a channel, with what its subscriber was sent (see the module docstring)."""

    #: An order channel: the order's version its subscriber was sent (0: none).
    since: int = 0
    #: A board or queue channel: the digest of the message its subscriber was sent, until the
    #: stream handler posts it another (None: none, or already posted another).
    sent: str | None = None


def expiry(now: float) -> int:
    """When a subscription written at ``now`` is surely dead (epoch seconds, the TTL value)."""
    return int(now) + CONNECTION_LIFETIME_SECONDS + EXPIRY_MARGIN_SECONDS


def too_many(connection_id: str, limit: int) -> TooManySubscriptions:
    return TooManySubscriptions(
        f"a connection may hold at most {limit} subscriptions", {"limit": limit, "connection": connection_id}
    )


class Connections(ABC):
    """The subscriptions of live connections. Each method is atomic on its own; store faults
    raise ``StoreUnavailable``."""

    def __init__(self, *, limit: int = MAX_SUBSCRIPTIONS, clock: Clock = time.time) -> None:
        self.limit = limit
        self.clock = clock

    @abstractmethod
    def add(self, connection_id: str, channel: str, since: int = 0, sent: str | None = None) -> None:
        """Subscribe the connection to ``channel`` (again: a fresh ``since``, ``sent`` and expiry).

        ``since`` is the version of the order the subscriber was sent with its current state:
        the stream handler sends it no version up to that one. ``sent`` is the ``sent_digest`` of
        the board or queue message it was sent. Raises ``TooManySubscriptions`` when the
        connection already holds ``limit`` other channels.
        """

    @abstractmethod
    def subscriptions(self, channel: str) -> dict[str, Subscription]:
        """The connections subscribed to ``channel`` (none expired), each with what it was sent."""

    def members(self, channel: str) -> dict[str, int]:
        """The connections subscribed to ``channel`` (none expired), each with its ``since``."""
        return {connection: found.since for connection, found in self.subscriptions(channel).items()}

    @abstractmethod
    def clear_sent(self, channel: str, sent: Mapping[str, str]) -> None:
        """Forget the ``sent`` of each subscription of ``channel`` named in ``sent`` (connection →
        the digest the caller read), where it still is that digest: the stream handler is about
        to post those subscribers another message. A subscription gone meanwhile, made again
        with another digest, or holding none is left as it is (and never made again)."""

    @abstractmethod
    def channels_of(self, connection_id: str) -> set[str]:
        """The channels the connection is subscribed to."""

    @abstractmethod
    def remove(self, connection_id: str, channel: str) -> None:
        """Drop one subscription (none: nothing happens)."""

    @abstractmethod
    def remove_connection(self, connection_id: str) -> None:
        """Drop the connection and every subscription it holds (unknown: nothing happens)."""


class MemoryConnections(Connections):
    """In one process (tests, a single-process local run)."""

    def __init__(self, *, limit: int = MAX_SUBSCRIPTIONS, clock: Clock = time.time) -> None:
        super().__init__(limit=limit, clock=clock)
        self._lock = threading.Lock()
        # channel → connection → (expiration, what it was sent)
        self._members: dict[str, dict[str, tuple[int, Subscription]]] = {}
        self._channels: dict[str, set[str]] = {}  # connection → channels

    def add(self, connection_id: str, channel: str, since: int = 0, sent: str | None = None) -> None:
        with self._lock:
            channels = self._channels.setdefault(connection_id, set())
            if channel not in channels and len(channels) >= self.limit:
                raise too_many(connection_id, self.limit)
            channels.add(channel)
            self._members.setdefault(channel, {})[connection_id] = (
                expiry(self.clock()),
                Subscription(since, sent),
            )

    def subscriptions(self, channel: str) -> dict[str, Subscription]:
        now = self.clock()
        with self._lock:
            found = self._members.get(channel, {})
            return {connection: held for connection, (until, held) in found.items() if until > now}

    def clear_sent(self, channel: str, sent: Mapping[str, str]) -> None:
        with self._lock:
            found = self._members.get(channel, {})
            for connection_id, digest in sent.items():
                member = found.get(connection_id)
                if member is not None and member[1].sent == digest:
                    until, held = member
                    found[connection_id] = (until, held._replace(sent=None))

    def channels_of(self, connection_id: str) -> set[str]:
        with self._lock:
            return set(self._channels.get(connection_id, ()))

    def remove(self, connection_id: str, channel: str) -> None:
        with self._lock:
            self._channels.get(connection_id, set()).discard(channel)
            self._drop_member(channel, connection_id)

    def remove_connection(self, connection_id: str) -> None:
        with self._lock:
            for channel in self._channels.pop(connection_id, set()):
                self._drop_member(channel, connection_id)

    def _drop_member(self, channel: str, connection_id: str) -> None:
        found = self._members.get(channel)
        if found is not None:
            found.pop(connection_id, None)
            if not found:
                del self._members[channel]


def connections_for(store: OrderStore, env: Mapping[str, str]) -> Connections:
    """The subscriptions store beside ``store``: the same SQLite file, the DynamoDB connections
    table ``CAFE_CONNECTIONS_TABLE`` (through the store's own client), or memory."""
    from cafe.stores.dynamodb import DynamoDBStore
    from cafe.stores.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        from cafe.live.connections_sqlite import SQLiteConnections

        return SQLiteConnections(store)
    if isinstance(store, DynamoDBStore):
        from cafe.live.connections_dynamodb import DynamoDBConnections

        table = env.get("CAFE_CONNECTIONS_TABLE")
        if not table:
            raise ConfigurationError("CAFE_CONNECTIONS_TABLE must name the connections table")
        return DynamoDBConnections(table, client=store.client)
    return MemoryConnections()

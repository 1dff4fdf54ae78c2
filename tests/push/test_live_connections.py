"""One contract, every subscriptions store of the Lambda push: memory, SQLite, DynamoDB (moto)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from unittest import mock

import boto3
import pytest
from moto import mock_aws

from cafe.config import ConfigurationError
from cafe.live.connections import (
    CONNECTION_LIFETIME_SECONDS,
    EXPIRY_MARGIN_SECONDS,
    MAX_SUBSCRIPTIONS,
    Connections,
    MemoryConnections,
    Subscription,
    TooManySubscriptions,
    channel_name,
    connections_for,
    sent_digest,
)
from cafe.live.connections_dynamodb import DynamoDBConnections
from cafe.live.connections_sqlite import SQLiteConnections
from cafe.stores.dynamodb import DynamoDBStore
from cafe.stores.memory import MemoryStore
from cafe.stores.schema import TIME_TO_LIVE_ATTRIBUTE, create_connections_table_arguments
from cafe.stores.sqlite import SQLiteStore
from tests.contract.dynamodb_factory import DUMMY_ENVIRONMENT, REGION


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["memory", "sqlite", "dynamodb"])
def connections(request: pytest.FixtureRequest, tmp_path, clock: Clock) -> Iterator[Connections]:
    if request.param == "memory":
        yield MemoryConnections(clock=clock)
    elif request.param == "sqlite":
        store = SQLiteStore(str(tmp_path / "cafe.sqlite3"))
        yield SQLiteConnections(store, clock=clock)
        store.close()
    else:
        with mock.patch.dict(os.environ, DUMMY_ENVIRONMENT), mock_aws():
            client = boto3.session.Session().client("dynamodb", region_name=REGION)
            table = f"cafe-connections-{uuid.uuid4().hex[:8]}"
            client.create_table(**create_connections_table_arguments(table))
            yield DynamoDBConnections(table, client=client, clock=clock)


def test_a_subscription_makes_a_member(connections: Connections):
    connections.add("c1", "board")
    connections.add("c2", "board")
    connections.add("c1", channel_name("order", "abc"))
    assert sorted(connections.members("board")) == ["c1", "c2"]
    assert connections.members("order#abc") == {"c1": 0}
    assert connections.members("queue") == {}
    assert connections.channels_of("c1") == {"board", "order#abc"}
    assert connections.channels_of("nobody") == set()


def test_subscribing_again_changes_nothing(connections: Connections):
    connections.add("c1", "board")
    connections.add("c1", "board")
    assert connections.members("board") == {"c1": 0}
    assert connections.channels_of("c1") == {"board"}


def test_a_subscription_keeps_the_version_its_subscriber_has(connections: Connections):
    connections.add("c1", "order#a", 3)
    connections.add("c2", "order#a")
    assert connections.members("order#a") == {"c1": 3, "c2": 0}
    connections.add("c1", "order#a", 5)  # subscribed again with a newer state
    assert connections.members("order#a") == {"c1": 5, "c2": 0}


def test_a_board_or_queue_subscription_keeps_the_digest_of_what_it_was_sent(connections: Connections):
    connections.add("c1", "board", sent="d1")
    connections.add("c2", "board")
    connections.add("c1", "order#a", 4)
    assert connections.subscriptions("board") == {"c1": Subscription(0, "d1"), "c2": Subscription(0, None)}
    assert connections.subscriptions("order#a") == {"c1": Subscription(4, None)}
    assert connections.members("board") == {"c1": 0, "c2": 0}
    connections.add("c1", "board", sent="d2")  # subscribed again: sent the board again
    connections.add("c2", "board", sent="d3")
    assert connections.subscriptions("board") == {"c1": Subscription(0, "d2"), "c2": Subscription(0, "d3")}
    assert connections.subscriptions("queue") == {}


def test_clear_sent_clears_only_the_digest_it_was_given(connections: Connections, clock: Clock):
    connections.add("c1", "board", sent="d1")
    connections.add("c2", "board", sent="d2")
    connections.add("c3", "board")
    connections.add("c1", "queue", sent="d1")
    clock.now += 60
    connections.clear_sent("board", {"c1": "d1", "c2": "another", "c3": "d3", "nobody": "d1"})
    assert connections.subscriptions("board") == {
        "c1": Subscription(0, None),
        "c2": Subscription(0, "d2"),  # made again with another message since it was read: kept
        "c3": Subscription(0, None),
    }
    assert connections.subscriptions("queue") == {"c1": Subscription(0, "d1")}  # another channel
    assert connections.channels_of("c1") == {"board", "queue"}
    connections.clear_sent("board", {})  # nothing to clear: nothing happens
    # The subscription keeps its expiry: clearing is no subscribing again.
    clock.now += CONNECTION_LIFETIME_SECONDS + EXPIRY_MARGIN_SECONDS - 60
    assert connections.subscriptions("board") == {}


def test_clear_sent_never_brings_a_subscription_back(connections: Connections):
    connections.add("c1", "board", sent="d1")
    connections.add("c2", "board", sent="d2")
    connections.add("c2", "queue", sent="d2")
    connections.remove("c1", "board")
    connections.remove_connection("c2")
    connections.clear_sent("board", {"c1": "d1", "c2": "d2"})
    connections.clear_sent("queue", {"c2": "d2"})
    assert connections.subscriptions("board") == connections.subscriptions("queue") == {}
    assert connections.channels_of("c1") == connections.channels_of("c2") == set()
    if isinstance(connections, DynamoDBConnections):  # no subscription item, not even an expired one
        items = connections.client.scan(TableName=connections.table_name)["Items"]
        assert [item for item in items if item["channel"]["S"] in ("board", "queue")] == []


def test_sent_digest_is_short_and_tells_messages_apart():
    board = '{"type":"board","board":{"preparing":[1],"ready":[]}}'
    assert sent_digest(board) == sent_digest(board)
    assert len(sent_digest(board)) == 32 and int(sent_digest(board), 16) >= 0
    assert sent_digest(board) != sent_digest(board.replace("[1]", "[2]"))
    assert len(sent_digest("x" * 500_000)) == 32  # a big queue is still a small item


def test_remove_one_keeps_the_others(connections: Connections):
    connections.add("c1", "board")
    connections.add("c1", "queue")
    connections.add("c2", "board")
    connections.remove("c1", "board")
    assert connections.members("board") == {"c2": 0}
    assert connections.members("queue") == {"c1": 0}
    assert connections.channels_of("c1") == {"queue"}
    connections.remove("c1", "board")  # already gone: nothing happens
    connections.remove("nobody", "board")
    assert connections.channels_of("nobody") == set()


def test_remove_connection_drops_all_its_subscriptions(connections: Connections):
    for channel in ("board", "queue", "order#a", "order#b"):
        connections.add("c1", channel)
    connections.add("c2", "order#a")
    connections.remove_connection("c1")
    assert connections.channels_of("c1") == set()
    assert connections.members("board") == connections.members("queue") == {}
    assert connections.members("order#a") == {"c2": 0}
    connections.remove_connection("c1")  # twice, or never connected: nothing happens
    connections.remove_connection("never")


def test_a_connection_holds_at_most_the_limit(connections: Connections):
    channels = [f"order#o{index}" for index in range(MAX_SUBSCRIPTIONS)]
    for channel in channels:
        connections.add("flood", channel)
    with pytest.raises(TooManySubscriptions) as refused:
        connections.add("flood", "board")
    assert refused.value.details["limit"] == MAX_SUBSCRIPTIONS
    assert connections.members("board") == {}
    assert connections.channels_of("flood") == set(channels)
    connections.add("flood", channels[0])  # one it holds already is no new one
    connections.add("other", "board")  # the limit is per connection
    connections.remove("flood", channels[0])
    connections.add("flood", "board")  # room again
    assert sorted(connections.members("board")) == ["flood", "other"]


def test_subscriptions_past_the_connections_lifetime_are_no_members(connections: Connections, clock: Clock):
    connections.add("old", "board")
    clock.now += CONNECTION_LIFETIME_SECONDS
    connections.add("new", "board")
    assert sorted(connections.members("board")) == ["new", "old"]  # within the margin
    clock.now += EXPIRY_MARGIN_SECONDS + 1
    assert list(connections.members("board")) == ["new"]


def test_dynamodb_items_carry_the_ttl_attribute(clock: Clock):
    with mock.patch.dict(os.environ, DUMMY_ENVIRONMENT), mock_aws():
        client = boto3.session.Session().client("dynamodb", region_name=REGION)
        client.create_table(**create_connections_table_arguments("connections"))
        DynamoDBConnections("connections", client=client, clock=clock).add("c1", "queue")
        items = client.scan(TableName="connections")["Items"]
    expected = int(clock.now) + CONNECTION_LIFETIME_SECONDS + EXPIRY_MARGIN_SECONDS
    assert {(item["channel"]["S"], item["connection_id"]["S"]) for item in items} == {
        ("queue", "c1"),
        ("connection#c1", "-"),
    }
    assert all(int(item[TIME_TO_LIVE_ATTRIBUTE]["N"]) == expected for item in items)


def test_connections_for_sits_beside_the_order_book(tmp_path):
    assert isinstance(connections_for(MemoryStore(), {}), MemoryConnections)
    sqlite = SQLiteStore(str(tmp_path / "cafe.sqlite3"))
    assert isinstance(connections_for(sqlite, {}), SQLiteConnections)
    dynamodb = DynamoDBStore("cafe-orders", client=mock.Mock())
    beside = connections_for(dynamodb, {"CAFE_CONNECTIONS_TABLE": "cafe-connections"})
    assert isinstance(beside, DynamoDBConnections)
    assert (beside.table_name, beside.client) == ("cafe-connections", dynamodb.client)
    with pytest.raises(ConfigurationError):
        connections_for(dynamodb, {})


def test_sqlite_subscriptions_are_shared_through_the_file(tmp_path):
    # The emulator's message and stream functions are separate processes on one file.
    path = str(tmp_path / "cafe.sqlite3")
    writer, reader = SQLiteConnections(SQLiteStore(path)), SQLiteConnections(SQLiteStore(path))
    writer.add("c1", "order#x")
    assert reader.members("order#x") == {"c1": 0}
    reader.remove_connection("c1")
    assert writer.channels_of("c1") == set()


def test_a_sqlite_file_from_before_sent_gets_the_column(tmp_path):
    # Subscriptions written by the code before ``sent`` keep working, and new ones record it.
    path = str(tmp_path / "cafe.sqlite3")
    store = SQLiteStore(path)
    conn = store.connection()
    with store.write(conn):
        conn.execute(
            "CREATE TABLE live_subscriptions (channel TEXT NOT NULL, connection_id TEXT NOT NULL,"
            " expiration INTEGER NOT NULL, since INTEGER NOT NULL, PRIMARY KEY (channel, connection_id))"
            " WITHOUT ROWID"
        )
        conn.execute("INSERT INTO live_subscriptions VALUES ('board', 'old', 4102444800, 0)")
    connections = SQLiteConnections(store)
    assert connections.subscriptions("board") == {"old": Subscription(0, None)}
    connections.add("new", "board", sent="d1")
    connections.clear_sent("board", {"old": "d1"})
    assert connections.subscriptions("board") == {"old": Subscription(0, None), "new": Subscription(0, "d1")}
    assert SQLiteConnections(SQLiteStore(path)).members("board") == {"old": 0, "new": 0}  # once is enough
    store.close()

"""Subscriptions in the order book's SQLite file, in a table of their own.

The local Lambda emulator runs each handler in its own processes: the message function adds,
the stream function reads, the disconnect function removes, all through this one file (WAL,
``BEGIN IMMEDIATE``, the busy timeout: ``SQLiteStore``'s own connection handling).

A file written before subscriptions kept ``sent`` gets the column on first use (``ADD COLUMN``,
inside the write lock: every subscription it holds keeps working, with no ``sent``).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Mapping

from cafe.live.connections import (
    MAX_SUBSCRIPTIONS,
    Clock,
    Connections,
    Subscription,
    expiry,
    too_many,
)
from cafe.stores.base import faults_as_unavailable
from cafe.stores.sqlite import SQLiteStore, is_store_fault

SCHEMA = """
CREATE TABLE IF NOT EXISTS live_subscriptions (
    channel TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    expiration INTEGER NOT NULL,
    since INTEGER NOT NULL,
    sent TEXT,
    PRIMARY KEY (channel, connection_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS live_subscriptions_by_connection ON live_subscriptions (connection_id);
CREATE INDEX IF NOT EXISTS live_subscriptions_by_expiration ON live_subscriptions (expiration);
"""

_store_call = faults_as_unavailable(is_store_fault)


class SQLiteConnections(Connections):
    def __init__(
        self, store: SQLiteStore, *, limit: int = MAX_SUBSCRIPTIONS, clock: Clock = time.time
    ) -> None:
        super().__init__(limit=limit, clock=clock)
        self.store = store
        self._lock = threading.Lock()
        self._ready = False

    def _connection(self) -> sqlite3.Connection:
        conn = self.store.connection()
        if not self._ready:
            with self._lock:
                if not self._ready:
                    with self.store.write(conn):
                        for statement in SCHEMA.split(";"):
                            if statement.strip():
                                conn.execute(statement)
                        columns = {row[1] for row in conn.execute("PRAGMA table_info(live_subscriptions)")}
                        if "sent" not in columns:  # a file of the code before ``sent``
                            conn.execute("ALTER TABLE live_subscriptions ADD COLUMN sent TEXT")
                    self._ready = True
        return conn

    @_store_call
    def add(self, connection_id: str, channel: str, since: int = 0, sent: str | None = None) -> None:
        now = self.clock()
        with self.store.write(self._connection()) as conn:
            # Leftovers of disconnects never seen go here rather than in a sweeper of their own.
            conn.execute("DELETE FROM live_subscriptions WHERE expiration <= ?", (int(now),))
            others = conn.execute(
                "SELECT count(*) FROM live_subscriptions WHERE connection_id = ? AND channel != ?",
                (connection_id, channel),
            ).fetchone()[0]
            if others >= self.limit:
                raise too_many(connection_id, self.limit)
            conn.execute(
                "INSERT OR REPLACE INTO live_subscriptions (channel, connection_id, expiration, since, sent)"
                " VALUES (?, ?, ?, ?, ?)",
                (channel, connection_id, expiry(now), since, sent),
            )

    @_store_call
    def subscriptions(self, channel: str) -> dict[str, Subscription]:
        rows = self._connection().execute(
            "SELECT connection_id, since, sent FROM live_subscriptions WHERE channel = ? AND expiration > ?",
            (channel, int(self.clock())),
        )
        return {connection_id: Subscription(since, sent) for connection_id, since, sent in rows}

    @_store_call
    def clear_sent(self, channel: str, sent: Mapping[str, str]) -> None:
        if not sent:
            return
        with self.store.write(self._connection()) as conn:
            conn.executemany(
                "UPDATE live_subscriptions SET sent = NULL"
                " WHERE channel = ? AND connection_id = ? AND sent = ?",
                [(channel, connection_id, digest) for connection_id, digest in sent.items()],
            )

    @_store_call
    def channels_of(self, connection_id: str) -> set[str]:
        rows = self._connection().execute(
            "SELECT channel FROM live_subscriptions WHERE connection_id = ?", (connection_id,)
        )
        return {row[0] for row in rows}

    @_store_call
    def remove(self, connection_id: str, channel: str) -> None:
        with self.store.write(self._connection()) as conn:
            conn.execute(
                "DELETE FROM live_subscriptions WHERE channel = ? AND connection_id = ?",
                (channel, connection_id),
            )

    @_store_call
    def remove_connection(self, connection_id: str) -> None:
        with self.store.write(self._connection()) as conn:
            conn.execute("DELETE FROM live_subscriptions WHERE connection_id = ?", (connection_id,))

"""SQLite: the embedded store for local runs, one file shared by every local runtime.

WAL mode lets the three runtimes' processes read while one writes; every write that must be
atomic runs in ``BEGIN IMMEDIATE``, which takes the write lock up front, so two processes can
never hand out the same pickup number or overfill the queue. ``synchronous=NORMAL`` in WAL
mode keeps every committed transaction across a crash of the server process (``kill -9``):
the commit is in the WAL file before ``COMMIT`` returns. Only an OS crash or power cut can
lose the last commits, which is the trade-off SQLite documents for WAL + NORMAL.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from cafe.domain.orders import Order, OrderNotFound, Status
from cafe.domain.settings import StoreSettings
from cafe.stores.base import (
    FEED_KEEP,
    Admit,
    ConcurrentUpdate,
    FeedEvent,
    OrderStore,
    QueueFull,
    Remember,
    Remembered,
    faults_as_unavailable,
    menu_view,
    store_view,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY,
    business_day TEXT NOT NULL,
    number INTEGER NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (business_day, number)
);
CREATE INDEX IF NOT EXISTS orders_by_status ON orders (status, created_at, number);
CREATE TABLE IF NOT EXISTS day_counters (business_day TEXT PRIMARY KEY, last_number INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS settings (
    id INTEGER PRIMARY KEY CHECK (id = 1), open INTEGER NOT NULL, max_waiting INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS queue (id INTEGER PRIMARY KEY CHECK (id = 1), waiting INTEGER NOT NULL);
INSERT OR IGNORE INTO queue (id, waiting) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS menu_availability (item_id TEXT PRIMARY KEY, available INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS placements (
    key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, until INTEGER NOT NULL, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feed (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, body TEXT NOT NULL
);
"""
# The change feed is pruned to its last FEED_KEEP events once every this many events.
FEED_PRUNE_EVERY = 500
# How long a writer waits for another process's write lock before giving up (seconds).
BUSY_TIMEOUT = 30.0
# SQLite's primary result codes for "another connection holds the lock": a wait, not a fault.
SQLITE_BUSY = 5
SQLITE_LOCKED = 6


def is_store_fault(error: BaseException) -> bool:
    """A database locked or busy past the timeout: answer 503 and let the client retry."""
    code = getattr(error, "sqlite_errorcode", None)
    return (
        isinstance(error, sqlite3.OperationalError)
        and code is not None
        and code & 0xFF
        in (
            SQLITE_BUSY,
            SQLITE_LOCKED,
        )
    )


_store_call = faults_as_unavailable(is_store_fault)
# Copy the WAL back into the database every this many pages (≈ 40 MB) instead of SQLite's
# 1000: each checkpoint ends in an fsync that the committing request waits for, and the hot
# pages (queue counter, day counter, index tails) are copied once per checkpoint however
# often they were rewritten. An order placement writes ~7 pages, so the default meant an
# fsync every ~150 orders. Durability is unchanged (commits are in the WAL either way).
WAL_CHECKPOINT_PAGES = 10_000


class SQLiteStore(OrderStore):
    """The change feed is the ``feed`` table: one row per accepted change, appended in the same
    write transaction as the change (so a rolled-back change leaves no event, and a committed
    one always has its event). ``AUTOINCREMENT`` never reuses a sequence after pruning, and
    writers are serialised by ``BEGIN IMMEDIATE``, so sequences commit in order with no gaps:
    a reader polling ``sequence > n`` from any process sees every change once, in order.
    """

    fast_local_calls = True
    has_feed = True

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        self._lock = threading.Lock()
        self._initialised = False
        self._write_lock = threading.Lock()

    # Connections are per thread: the server runtimes call the store from worker threads.
    def connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            directory = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(directory, exist_ok=True)
            conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            with self._lock:
                if not self._initialised:
                    self._initialise(conn)
                    self._initialised = True
            self._local.conn = conn
        return conn

    def _initialise(self, conn: sqlite3.Connection) -> None:
        """WAL mode and the schema, once per store; other processes may be doing the same."""
        deadline = time.monotonic() + BUSY_TIMEOUT
        while conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            # Switching the journal mode needs the file to itself and does not wait for a
            # busy lock like other statements do: retry while another process holds it.
            try:
                conn.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        with self.write(conn):
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)

    @contextmanager
    def write(self, conn: sqlite3.Connection | None = None) -> Iterator[sqlite3.Connection]:
        """One atomic write transaction holding the database's write lock from the start.

        Threads of one process queue on a Python lock first: SQLite admits one writer at a
        time anyway, and its busy handler makes the losers sleep for milliseconds, where a
        lock hands over the moment the writer commits. Other processes still meet SQLite's
        own lock (and its busy timeout).
        """
        conn = conn or self.connection()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @_store_call
    def place(self, draft: Order, *, admit: Admit, remember: Remember | None = None) -> Order | Remembered:
        # One write transaction from the idempotency check to the insert: concurrent
        # placements with one key queue on the write lock, and the later ones find the first.
        with self.write() as conn:
            if remember is not None:
                row = conn.execute(
                    "SELECT fingerprint, body FROM placements WHERE key = ? AND until >= ?",
                    (remember.key, remember.now),
                ).fetchone()
                if row is not None:
                    return Remembered(Order.from_dict(json.loads(row[1])), row[0])
            settings, unavailable = self._read_admission(conn)
            admit(settings, unavailable)
            order, body = self._insert(conn, draft, settings.max_waiting)
            if remember is not None:
                conn.execute(
                    "INSERT OR REPLACE INTO placements (key, fingerprint, until, body) VALUES (?, ?, ?, ?)",
                    (remember.key, remember.fingerprint, remember.until, body),
                )
        return order

    @_store_call
    def add(self, draft: Order, *, max_waiting: int) -> Order:
        with self.write() as conn:
            return self._insert(conn, draft, max_waiting)[0]

    def _insert(self, conn: sqlite3.Connection, draft: Order, max_waiting: int) -> tuple[Order, str]:
        """Number and store ``draft`` inside the caller's write transaction; the order and its JSON."""
        # Claim a place in the queue and a pickup number; RETURNING keeps it to one
        # statement each (this is the hottest write path).
        if (
            conn.execute(
                "UPDATE queue SET waiting = waiting + 1 WHERE id = 1 AND waiting < ? RETURNING waiting",
                (max_waiting,),
            ).fetchone()
            is None
        ):
            raise QueueFull(f"{max_waiting} orders are already waiting", {"max_waiting": max_waiting})
        (number,) = conn.execute(
            "INSERT INTO day_counters (business_day, last_number) VALUES (?, 1) "
            "ON CONFLICT (business_day) DO UPDATE SET last_number = last_number + 1 "
            "RETURNING last_number",
            (draft.business_day,),
        ).fetchone()
        order = replace(draft, number=number)
        row = self._row(order)
        conn.execute(
            "INSERT INTO orders (id, business_day, number, status, created_at, version, body) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            row,
        )
        self._emit(conn, "order", row[-1])
        return order, row[-1]

    @staticmethod
    def _emit(conn: sqlite3.Connection, kind: str, body: str) -> None:
        """Append a change to the feed inside the caller's write transaction; prune now and then."""
        (sequence,) = conn.execute(
            "INSERT INTO feed (kind, body) VALUES (?, ?) RETURNING sequence", (kind, body)
        ).fetchone()
        if sequence % FEED_PRUNE_EVERY == 0:
            conn.execute("DELETE FROM feed WHERE sequence <= ?", (sequence - FEED_KEEP,))

    @_store_call
    def feed_after(self, sequence: int, limit: int = 100) -> list[FeedEvent]:
        rows = self.connection().execute(
            "SELECT sequence, kind, body FROM feed WHERE sequence > ? ORDER BY sequence LIMIT ?",
            (sequence, limit),
        )
        return [FeedEvent(int(number), kind, body) for number, kind, body in rows]

    @_store_call
    def latest_sequence(self) -> int:
        row = self.connection().execute("SELECT max(sequence) FROM feed").fetchone()
        return int(row[0] or 0)

    @staticmethod
    def _row(order: Order) -> tuple[str, str, int, str, str, int, str]:
        return (
            order.id,
            order.business_day,
            order.number,
            order.status.value,
            order.created_at.isoformat(timespec="microseconds"),
            order.version,
            order.as_json,
        )

    @_store_call
    def get(self, order_id: str) -> Order:
        row = self.connection().execute("SELECT body FROM orders WHERE id = ?", (order_id,)).fetchone()
        if row is None:
            raise OrderNotFound(f"no order {order_id!r}", {"order_id": order_id})
        return Order.from_dict(json.loads(row[0]))

    @_store_call
    def replace(self, order: Order) -> None:
        with self.write() as conn:
            cursor = conn.execute(
                "UPDATE orders SET status = ?, version = ?, body = ? WHERE id = ? AND version = ?",
                (
                    order.status.value,
                    order.version,
                    order.as_json,
                    order.id,
                    order.version - 1,
                ),
            )
            if cursor.rowcount == 1:
                self._emit(conn, "order", order.as_json)
                # A counter, not COUNT(*): counting a long queue on every order would be O(n).
                delta = int(order.status.waiting) - int(order.history[-2].status.waiting)
                if delta:
                    conn.execute("UPDATE queue SET waiting = waiting + ? WHERE id = 1", (delta,))
                return
            row = conn.execute("SELECT status FROM orders WHERE id = ?", (order.id,)).fetchone()
        if row is None:
            raise OrderNotFound(f"no order {order.id!r}", {"order_id": order.id})
        raise ConcurrentUpdate(
            f"order {order.id} changed meanwhile", {"order_id": order.id, "status": row[0]}
        )

    @_store_call
    def list_by_status(self, status: Status, limit: int = 100) -> list[Order]:
        rows = self.connection().execute(
            "SELECT body FROM orders WHERE status = ? ORDER BY created_at, number LIMIT ?",
            (status.value, limit),
        )
        return [Order.from_dict(json.loads(body)) for (body,) in rows]

    @_store_call
    def count_waiting(self) -> int:
        (count,) = self.connection().execute("SELECT waiting FROM queue WHERE id = 1").fetchone()
        return int(count)

    @_store_call
    def get_settings(self) -> StoreSettings:
        return self._read_settings(self.connection())

    @staticmethod
    def _read_settings(conn: sqlite3.Connection) -> StoreSettings:
        row = conn.execute("SELECT open, max_waiting FROM settings WHERE id = 1").fetchone()
        return SQLiteStore._settings(*(row or (None, None)))

    @staticmethod
    def _settings(open_: int | None, max_waiting: int | None) -> StoreSettings:
        """The settings of the row's values; the defaults while none was saved (``open_`` None)."""
        if open_ is None or max_waiting is None:
            return StoreSettings()
        return StoreSettings(open=bool(open_), max_waiting=int(max_waiting))

    @_store_call
    def put_settings(self, settings: StoreSettings) -> None:
        with self.write() as conn:
            conn.execute(
                "INSERT INTO settings (id, open, max_waiting) VALUES (1, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET open = excluded.open, max_waiting = excluded.max_waiting",
                (int(settings.open), settings.max_waiting),
            )
            self._emit(conn, "store", store_view(settings))

    @staticmethod
    def _read_admission(conn: sqlite3.Connection) -> tuple[StoreSettings, frozenset[str]]:
        """The settings and the sold-out items in one statement (placing an order needs both)."""
        open_, max_waiting, sold_out = conn.execute(
            "SELECT (SELECT open FROM settings WHERE id = 1),"
            " (SELECT max_waiting FROM settings WHERE id = 1),"
            " (SELECT json_group_array(item_id) FROM menu_availability WHERE available = 0)"
        ).fetchone()
        return SQLiteStore._settings(open_, max_waiting), frozenset(json.loads(sold_out))

    @_store_call
    def unavailable_items(self) -> frozenset[str]:
        return self._read_unavailable(self.connection())

    @staticmethod
    def _read_unavailable(conn: sqlite3.Connection) -> frozenset[str]:
        rows = conn.execute("SELECT item_id FROM menu_availability WHERE available = 0")
        return frozenset(item_id for (item_id,) in rows)

    @_store_call
    def set_item_available(self, item_id: str, available: bool) -> None:
        with self.write() as conn:
            conn.execute(
                "INSERT INTO menu_availability (item_id, available) VALUES (?, ?) "
                "ON CONFLICT (item_id) DO UPDATE SET available = excluded.available",
                (item_id, int(available)),
            )
            self._emit(conn, "menu", menu_view(item_id, available))

    def connect(self) -> None:
        self.connection()

    def close(self) -> None:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

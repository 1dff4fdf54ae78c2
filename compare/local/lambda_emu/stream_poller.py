"""A DynamoDB-stream event source mapping over the SQLite order book's change feed.

Lambda's mapping polls each shard four times a second, hands the function up to `batch_size`
records at a time, one batch per shard at a time, and retries a failed batch (a function error,
a throttle, a timeout): delivery is at least once, in order, and nothing after a failing batch is
delivered meanwhile. The deployed mapping's retry settings are the template's own
(`infra.lambda_package.STREAM_RETRIES`): a batch that still fails after its retries is split in
two and each half retried the same way, down to the one record at fault, which is dropped and
counted. (Its age limit is not applied here: the SQLite feed keeps no commit time.) Here the shard
is the SQLite `feed` table (one ordered sequence), its records are built by
`cafe.live.stream.records_from_feed` exactly as the table's stream would carry them, the cursor
starts at the latest sequence when the poller starts (starting_position LATEST) and moves only
past what was delivered or dropped. AWS does not document its retry back-off; this one doubles
from `backoff_s` up to `max_backoff_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cafe.config import Config
from cafe.live.stream import records_from_feed
from cafe.stores.base import FeedEvent
from cafe.stores.sqlite import SQLiteStore
from compare.local.lambda_emu.invoke import invoke
from compare.local.lambda_emu.runtime import Pool

# "Lambda polls shards in your DynamoDB stream for records at a base rate of 4 times per second."
POLLS_PER_SECOND = 4
BATCH_SIZE = 100


class Feed(Protocol):
    def feed_after(self, sequence: int, limit: int = 100) -> list[FeedEvent]: ...

    def latest_sequence(self) -> int: ...


def sqlite_feed(env: Mapping[str, str], app_dir: Path) -> tuple[SQLiteStore, Config] | None:
    """The order book the functions' environments open (their env, their working directory)."""
    config = Config.from_env(env)
    if config.store != "sqlite":
        return None  # memory: one book per environment, no shared feed; dynamodb: the real stream
    path = Path(config.sqlite_path)
    return SQLiteStore(str(path if path.is_absolute() else app_dir / path)), config


@dataclass
class StreamFigures:
    cursor: int = 0
    batches: int = 0
    records: int = 0
    failures: int = 0  # failed invocations, each retried
    dropped: int = 0  # records given up on after their retries (the deployed mapping's settings)
    last_error: str | None = None


class StreamPoller:
    def __init__(
        self,
        pool: Pool,
        feed: Feed,
        *,
        to_records: Callable[[Iterable[FeedEvent]], list[dict[str, Any]]] = records_from_feed,
        batch_size: int = BATCH_SIZE,
        interval_s: float = 1 / POLLS_PER_SECOND,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        retries: int | None = None,
    ) -> None:
        self.pool = pool
        self.feed = feed
        self.to_records = to_records
        self.batch_size = batch_size
        self.interval_s = interval_s
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        if retries is None:
            from infra.lambda_package import STREAM_RETRIES  # the deployed mapping's own settings

            retries = int(STREAM_RETRIES["MaximumRetryAttempts"])
        self.retries = retries
        self.figures = StreamFigures()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Begin at the latest sequence (LATEST): changes made before the emulator started are not sent."""
        self.figures.cursor = await asyncio.to_thread(self.feed.latest_sequence)
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            started = time.monotonic()
            try:
                events = await asyncio.to_thread(self.feed.feed_after, self.figures.cursor, self.batch_size)
            except Exception as exc:  # the file busy or being replaced: the next poll reads it again
                self.figures.last_error = f"read: {exc}"
                events = []
            if events:
                await self._deliver(events)
            if len(events) < self.batch_size:  # a full batch: more are waiting, read on at once
                await asyncio.sleep(max(0.0, self.interval_s - (time.monotonic() - started)))

    async def _deliver(self, events: list[FeedEvent]) -> None:
        """Invoke the function with this batch, retrying it; past its retries split it in two
        (bisect on error) and deliver each half alike; a single record that still fails is
        dropped. The cursor then moves past the batch."""
        if await self._attempts(events):
            self.figures.batches += 1
            self.figures.records += len(events)
        elif len(events) > 1:
            half = len(events) // 2
            await self._deliver(events[:half])
            await self._deliver(events[half:])
        else:
            self.figures.dropped += 1
            print(f"stream: record {events[0].sequence} dropped after its retries", file=sys.stderr)
        self.figures.cursor = max(self.figures.cursor, events[-1].sequence)

    async def _attempts(self, events: list[FeedEvent]) -> bool:
        """The first invocation and `retries` more; True at the first success."""
        delay = self.backoff_s
        for attempt in range(self.retries + 1):
            try:
                event = {"Records": self.to_records(events)}
            except Exception as exc:  # a feed row the converter cannot read: said, and tried again
                status = f"records: {exc!r}"
            else:
                outcome = await invoke(self.pool, event)
                if outcome.ok:
                    return True
                status = outcome.status
            self.figures.failures += 1
            self.figures.last_error = status
            if attempt == self.retries:
                break
            print(f"stream: batch up to {events[-1].sequence} {status}; retrying", file=sys.stderr)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_backoff_s)
        return False

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def stats(self) -> dict[str, Any]:
        figures = self.figures
        return {
            "cursor": figures.cursor,
            "batches": figures.batches,
            "records": figures.records,
            "failures": figures.failures,
            "dropped": figures.dropped,
            "last_error": figures.last_error,
            "polls_per_second": 1 / self.interval_s,
            "batch_size": self.batch_size,
        }

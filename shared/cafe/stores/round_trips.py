"""Counting DynamoDB round trips through botocore's own event hooks.

On AWS every DynamoDB request is a network round trip of a few milliseconds, so the number of
requests an operation makes sets most of its latency. botocore emits ``request-created`` once
per HTTP attempt (a retried request counts again), before signing and sending; listening there
counts exactly what goes on the wire, against moto or DynamoDB alike, without touching the
store. The benchmarks (``bench/dynamodb_path.py``), the round-trip tests and the comparison
tool all count through this one class.

    with RoundTripCounter.attached(store.client) as trips:
        service.place_order(request, key)
    trips.operations  # ['GetItem', 'UpdateItem', 'TransactWriteItems']
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

EVENT = "request-created.dynamodb"


class RoundTripCounter:
    """The DynamoDB requests a client sent while attached, in order (thread-safe)."""

    def __init__(self) -> None:
        self._operations: list[str] = []
        self._lock = threading.Lock()

    def record(self, operation_name: str = "?", **_: Any) -> None:
        """The botocore handler: one call per HTTP attempt."""
        with self._lock:
            self._operations.append(operation_name)

    @property
    def operations(self) -> list[str]:
        with self._lock:
            return list(self._operations)

    @property
    def total(self) -> int:
        with self._lock:
            return len(self._operations)

    def by_operation(self) -> dict[str, int]:
        with self._lock:
            return dict(Counter(self._operations))

    def reset(self) -> None:
        with self._lock:
            self._operations.clear()

    @classmethod
    @contextmanager
    def attached(cls, client: Any) -> Iterator[RoundTripCounter]:
        """Count the requests ``client`` (a boto3 DynamoDB client) sends inside the block."""
        counter = cls()
        unique_id = f"cafe-round-trips-{id(counter)}"
        client.meta.events.register(EVENT, counter.record, unique_id=unique_id)
        try:
            yield counter
        finally:
            client.meta.events.unregister(EVENT, unique_id=unique_id)

"""Powertools idempotency persistence for the stores that powertools does not ship one for.

Powertools' ``BasePersistenceLayer`` leaves four hooks (get / put / update / delete a record);
the in-memory store fills them here, the SQLite store in ``cafe.stores.sqlite``. DynamoDB
uses powertools' own ``DynamoDBPersistenceLayer``.
"""

from __future__ import annotations

import threading
import time

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

IN_PROGRESS = "INPROGRESS"


def can_overwrite(existing: DataRecord, now: float | None = None) -> bool:
    """May a new INPROGRESS record take this key? (The rule DynamoDB's layer writes as a condition.)

    Yes when the old record has expired, or it is an abandoned INPROGRESS record whose
    in-progress deadline has passed (its server died mid-request).
    """
    now = time.time() if now is None else now
    if existing.expiry_timestamp is not None and existing.expiry_timestamp < now:
        return True
    return (
        existing._status == IN_PROGRESS
        and existing.in_progress_expiry_timestamp is not None
        and existing.in_progress_expiry_timestamp < now * 1000
    )


def copy_record(record: DataRecord) -> DataRecord:
    return DataRecord(
        idempotency_key=record.idempotency_key,
        status=record._status,
        expiry_timestamp=record.expiry_timestamp,
        in_progress_expiry_timestamp=record.in_progress_expiry_timestamp,
        response_data=record.response_data,
        payload_hash=record.payload_hash,
    )


class InMemoryIdempotency(BasePersistenceLayer):
    """Records in a dict: for tests and the in-memory store (one process only)."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # powertools leaves it unannotated
        self._records: dict[str, DataRecord] = {}
        self._lock = threading.Lock()

    def _get_record(self, idempotency_key: str) -> DataRecord:
        with self._lock:
            record = self._records.get(idempotency_key)
        if record is None:
            raise IdempotencyItemNotFoundError
        return copy_record(record)

    def _put_record(self, data_record: DataRecord) -> None:
        with self._lock:
            existing = self._records.get(data_record.idempotency_key)
            if existing is not None and not can_overwrite(existing):
                raise IdempotencyItemAlreadyExistsError
            self._records[data_record.idempotency_key] = copy_record(data_record)

    def _update_record(self, data_record: DataRecord) -> None:
        with self._lock:
            self._records[data_record.idempotency_key] = copy_record(data_record)

    def _delete_record(self, data_record: DataRecord) -> None:
        with self._lock:
            self._records.pop(data_record.idempotency_key, None)

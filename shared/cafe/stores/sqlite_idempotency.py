"""Powertools idempotency records in the SQLite store's file (shared by all local runtimes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from cafe.stores.idempotency import can_overwrite

if TYPE_CHECKING:
    from cafe.stores.sqlite import SQLiteStore

COLUMNS = "key, status, expiry, in_progress_expiry, response, payload_hash"
SAVE = f"INSERT OR REPLACE INTO idempotency ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"  # noqa: S608


class SQLiteIdempotency(BasePersistenceLayer):
    def __init__(self, store: SQLiteStore) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # powertools leaves it unannotated
        self._store = store

    @staticmethod
    def _values(record: DataRecord) -> tuple[str, str, int | None, int | None, str, str]:
        return (
            record.idempotency_key,
            record._status,
            record.expiry_timestamp,
            record.in_progress_expiry_timestamp,
            record.response_data,
            record.payload_hash,
        )

    def _get_record(self, idempotency_key: str) -> DataRecord:
        row = (
            self._store.connection()
            .execute(f"SELECT {COLUMNS} FROM idempotency WHERE key = ?", (idempotency_key,))  # noqa: S608
            .fetchone()
        )
        if row is None:
            raise IdempotencyItemNotFoundError
        key, status, expiry, in_progress_expiry, response, payload_hash = row
        return DataRecord(
            idempotency_key=key,
            status=status,
            expiry_timestamp=expiry,
            in_progress_expiry_timestamp=in_progress_expiry,
            response_data=response or "",
            payload_hash=payload_hash or "",
        )

    def _put_record(self, data_record: DataRecord) -> None:
        # Read and write under one write lock: of concurrent first requests exactly one wins.
        with self._store.write() as conn:
            try:
                existing = self._get_record(data_record.idempotency_key)
            except IdempotencyItemNotFoundError:
                existing = None
            if existing is not None and not can_overwrite(existing):
                raise IdempotencyItemAlreadyExistsError
            conn.execute(SAVE, self._values(data_record))

    def _update_record(self, data_record: DataRecord) -> None:
        with self._store.write() as conn:
            conn.execute(SAVE, self._values(data_record))

    def _delete_record(self, data_record: DataRecord) -> None:
        with self._store.write() as conn:
            conn.execute("DELETE FROM idempotency WHERE key = ?", (data_record.idempotency_key,))

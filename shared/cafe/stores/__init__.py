"""Order stores behind one interface; ``build_store`` picks one from the configuration.

Adapters are imported only when chosen, so a Lambda running on DynamoDB never imports sqlite3
code paths it does not use, and the SQLite runtimes never import boto3.
"""

from __future__ import annotations

from cafe.config import Config
from cafe.stores.base import ConcurrentUpdate, OrderStore, QueueFull, StoreUnavailable

__all__ = ["ConcurrentUpdate", "OrderStore", "QueueFull", "StoreUnavailable", "build_store"]


def build_store(config: Config) -> OrderStore:
    if config.store == "memory":
        from cafe.stores.memory import MemoryStore

        return MemoryStore()
    if config.store == "sqlite":
        from cafe.stores.sqlite import SQLiteStore

        return SQLiteStore(config.sqlite_path)
    from cafe.stores.dynamodb import DynamoDBStore

    return DynamoDBStore(config.table, endpoint_url=config.dynamodb_endpoint)

"""A ``DynamoDBStore`` on a fresh moto table, for the DynamoDB tests and the store contract suite.

Two ways to run moto:

- ``server=False`` (default, fast): ``mock_aws`` answers boto3 inside this process.
- ``server=True``: a moto server on 127.0.0.1 reached over real HTTP, one request at a time.
  Use it for concurrency tests. DynamoDB executes each request atomically (a conditional write,
  an ``ADD``, a whole transaction); moto's in-process backend does not: two threads can interleave
  inside one ``UpdateItem``, and a cancelled transaction restores a deep copy of the whole table,
  discarding writes other threads made meanwhile. Serialising requests at the server door gives
  back the per-request atomicity the adapter relies on, so a concurrency test checks the adapter,
  not moto's thread safety. Clients still send concurrently over separate connections.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any
from unittest import mock

import boto3
from botocore.config import Config
from moto import mock_aws
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from cafe.stores.dynamodb import DynamoDBStore, create_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

REGION = "us-east-1"
DUMMY_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}
# Enough pooled connections for the concurrency tests' threads (botocore's default is 10).
CLIENT_CONFIG = Config(max_pool_connections=64, retries={"mode": "standard"})


class _OneRequestAtATime:
    """WSGI middleware: serve one request at a time (see the module docstring for why)."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with self._lock:
            return list(self._app(environ, start_response))


class _QuietRequestHandler(MotoRequestHandler):
    """Moto's handler without werkzeug's line per request on stderr."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def moto_server() -> Iterator[str]:
    """A threaded moto server on a free port of 127.0.0.1; yields its endpoint URL."""
    app = _OneRequestAtATime(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="moto-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def _client(endpoint_url: str | None) -> DynamoDBClient:
    client: DynamoDBClient = boto3.session.Session().client(
        "dynamodb", region_name=REGION, endpoint_url=endpoint_url, config=CLIENT_CONFIG
    )
    return client


@contextmanager
def make_dynamodb_store(*, server: bool = False) -> Iterator[DynamoDBStore]:
    """Yield a ``DynamoDBStore`` on a new table created from ``cafe.stores.schema``.

    The table is unique per call and deleted afterwards, so calls never see each other's data.
    """
    table_name = f"cafe-test-{uuid.uuid4().hex[:12]}"
    with mock.patch.dict(os.environ, DUMMY_ENVIRONMENT), ExitStack() as stack:
        # Either a moto server over HTTP or moto inside this process; the rest is the same.
        endpoint_url = stack.enter_context(moto_server()) if server else None
        if not server:
            stack.enter_context(mock_aws())
        client = _client(endpoint_url)
        create_table(client, table_name)
        store = DynamoDBStore(table_name, client=client)
        try:
            yield store
        finally:
            store.close()
            client.delete_table(TableName=table_name)

"""Posting messages to WebSocket connections that API Gateway holds.

A function posts through the API's management endpoint (``POST @connections/{id}``), which
boto3's ``apigatewaymanagementapi`` client reaches at ``CAFE_WS_CALLBACK_URL``: on AWS
``https://{api}.execute-api.{region}.amazonaws.com/{stage}``, locally the emulator's
``http://127.0.0.1:{port}/api``. (Chalice's ``websocket_api`` builds https URLs only, so the
client is built here.)

A batch of messages is posted concurrently across connections and in order within each one, so
a subscriber gets its messages in the order they were made, and a thousand subscribers wait
for a few round trips rather than a thousand.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final

#: Connections posted to at once (each post is one HTTPS round trip of a few milliseconds).
POST_WORKERS: Final = 16
# Like the store's client (cafe.stores.dynamodb): botocore's standard retries, and timeouts well
# inside a stream batch's time; a connection that cannot be posted to in that time is skipped.
MAX_ATTEMPTS: Final = 3
CONNECT_TIMEOUT_SECONDS: Final = 2.0
READ_TIMEOUT_SECONDS: Final = 3.0


class ConnectionGone(Exception):
    """The client has left (API Gateway answered 410 GoneException)."""


@dataclass
class Delivery:
    """What became of a batch's posts."""

    sent: int = 0
    gone: list[str] = field(default_factory=list)  # connections to forget
    failed: list[tuple[str, str]] = field(default_factory=list)  # (connection, the fault) to log


class Poster(ABC):
    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()

    @abstractmethod
    def post(self, connection_id: str, message: str) -> None:
        """Send one text frame; raises ``ConnectionGone`` when the client has left."""

    def deliver(self, outbox: Mapping[str, Sequence[str]]) -> Delivery:
        """Post each connection's messages, in order; never raises for a post that fails."""
        delivery = Delivery()
        lock = threading.Lock()

        def post_all(connection_id: str) -> None:
            for message in outbox[connection_id]:
                try:
                    self.post(connection_id, message)
                except ConnectionGone:
                    with lock:
                        delivery.gone.append(connection_id)
                    return
                except Exception as error:  # this connection's fault: the others still get theirs
                    with lock:
                        delivery.failed.append((connection_id, repr(error)))
                    continue
                with lock:
                    delivery.sent += 1

        connections = [connection for connection, messages in outbox.items() if messages]
        if len(connections) == 1:
            post_all(connections[0])  # no thread for a lone subscriber (the usual ping, subscribe)
        elif connections:
            list(self._pool().map(post_all, connections))
        return delivery

    def _pool(self) -> ThreadPoolExecutor:
        """Built on the first batch with two subscribers, then kept for the environment's life."""
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(POST_WORKERS, thread_name_prefix="live-post")
            return self._executor


class GatewayPoster(Poster):
    """Posts through API Gateway's management API (``execute-api:ManageConnections``)."""

    def __init__(self, endpoint_url: str, *, region: str | None = None, client: Any = None) -> None:
        super().__init__()
        self.endpoint_url = endpoint_url
        self.region = region
        self._client = client
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        """The injected client, or one built on first use (boto3 clients are thread-safe)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3
                    from botocore.config import Config

                    self._client = boto3.session.Session().client(
                        "apigatewaymanagementapi",
                        endpoint_url=self.endpoint_url,
                        region_name=self.region,
                        config=Config(
                            retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
                            connect_timeout=CONNECT_TIMEOUT_SECONDS,
                            read_timeout=READ_TIMEOUT_SECONDS,
                            max_pool_connections=POST_WORKERS,
                        ),
                    )
        return self._client

    def post(self, connection_id: str, message: str) -> None:
        client = self.client
        try:
            client.post_to_connection(ConnectionId=connection_id, Data=message.encode())
        except client.exceptions.GoneException:
            raise ConnectionGone(connection_id) from None

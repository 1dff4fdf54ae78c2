"""The push suite's runtimes: the real ASGI apps of the runtimes that push (Fargate's
``fargate.app:app``, EC2's ``ec2.app:application`` as its uvicorn workers serve it), each in a real
uvicorn server on a loopback port in this process, all on one SQLite file, plus the runtimes
that do not push (Lambda's Chalice app, EC2's WSGI side) on the same file to make changes from.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn

from cafe.api import CafeApi
from cafe.domain.menu import load_menu
from cafe.observability import Telemetry
from cafe.service import CafeService
from cafe.stores.sqlite import SQLiteStore
from tests.api.clients import ChaliceClient, ec2_client

STAFF_TOKEN = "push-staff-token-0123456789"
PUSHING = ("fargate", "ec2")
AMERICANO = {"customer": "Kim", "items": [{"item_id": "americano", "quantity": 1}]}


def make_api(runtime: str, path: Path) -> CafeApi:
    service = CafeService(SQLiteStore(str(path)), load_menu(), zone=ZoneInfo("Asia/Seoul"))
    return CafeApi(service, runtime=runtime, staff_token=STAFF_TOKEN, telemetry=Telemetry(runtime))


class Served:
    """One ASGI app in a uvicorn server on its own thread and event loop."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            loop="asyncio",
            http="httptools",
            interface="asgi3",
            lifespan="off",
            log_level="warning",
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@dataclass
class Runtime:
    name: str
    url: str
    api: CafeApi

    def call(
        self, method: str, path: str, document: Any = None, *, staff: bool | str = False
    ) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if staff:
            headers["Authorization"] = f"Bearer {STAFF_TOKEN if staff is True else staff}"
        content = None if document is None else json.dumps(document).encode()
        return httpx.request(method, self.url + path, content=content, headers=headers, timeout=10)

    def place(self) -> dict[str, Any]:
        answer = self.call("POST", "/orders", AMERICANO)
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def advance(self, order_id: str, status: str) -> dict[str, Any]:
        answer = self.call("POST", f"/orders/{order_id}/status", {"status": status}, staff=True)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())


@dataclass
class Cafe:
    """The pushing runtimes by name, and the non-pushing ones (changes only), on one file."""

    runtimes: dict[str, Runtime]
    chalice: ChaliceClient
    wsgi: Any  # tests.api.clients.HttpxClient over ec2.app's WSGI side


@pytest.fixture(scope="module")
def cafe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cafe]:
    import ec2.app
    import fargate.app

    path = tmp_path_factory.mktemp("push") / "cafe.sqlite3"
    apis = {"fargate": make_api("fargate", path), "ec2": make_api("ec2", path)}
    originals = (fargate.app.cafe_api, ec2.app.cafe_api)
    # The modules look their API up per request: point each at its café on the shared file.
    fargate.app.cafe_api, ec2.app.cafe_api = apis["fargate"], apis["ec2"]
    servers = {"fargate": Served(fargate.app.app), "ec2": Served(ec2.app.application)}
    chalice = ChaliceClient()
    chalice.module.cafe_api = make_api("lambda", path)
    wsgi = ec2_client()  # ec2.app's WSGI side: the module's cafe_api, the ec2 one above
    try:
        yield Cafe(
            {name: Runtime(name, served.url, apis[name]) for name, served in servers.items()},
            chalice,
            wsgi,
        )
    finally:
        for served in servers.values():
            served.stop()
        fargate.app.cafe_api, ec2.app.cafe_api = originals


@pytest.fixture(params=PUSHING)
def runtime(request: pytest.FixtureRequest, cafe: Cafe) -> Runtime:
    return cafe.runtimes[request.param]


class Stream:
    """One SSE subscription read message by message (comments and ``retry:`` skipped).

    A task reads the lines into a queue: a timed-out wait must not cancel the line iterator
    (an async generator cancelled mid-read is finished for good).
    """

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.comments = 0
        self.messages: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        data: list[str] = []
        try:
            async for line in self.response.aiter_lines():
                if line.startswith(":"):
                    self.comments += 1
                elif line.startswith("data: "):
                    data.append(line[len("data: ") :])
                elif line == "" and data:
                    self.messages.put_nowait(dict(json.loads("\n".join(data))))
                    data = []
        except (httpx.HTTPError, asyncio.CancelledError):
            pass
        finally:
            self.messages.put_nowait(None)

    async def next(self, timeout: float = 3.0) -> dict[str, Any]:
        message = await asyncio.wait_for(self.messages.get(), timeout)
        if message is None:
            raise EOFError("the stream ended")
        return message

    async def nothing_within(self, seconds: float) -> bool:
        try:
            message = await self.next(seconds)
        except TimeoutError:
            return True
        raise AssertionError(f"unexpected message {message}")


@asynccontextmanager
async def subscribe(
    runtime: Runtime, query: str, *, token: str | None = None, client: httpx.AsyncClient | None = None
) -> AsyncIterator[Stream]:
    headers = {"Accept": "text/event-stream"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    own = client is None
    client = client or httpx.AsyncClient(timeout=httpx.Timeout(10, read=None))
    try:
        async with client.stream("GET", f"{runtime.url}/events?{query}", headers=headers) as response:
            assert response.status_code == 200, (await response.aread()).decode()
            assert response.headers["content-type"].startswith("text/event-stream")
            stream = Stream(response)
            try:
                yield stream
            finally:
                stream.reader.cancel()
    finally:
        if own:
            await client.aclose()

"""The push suite's runtimes, all three on one SQLite file (one order book, one feed):

- ``fargate`` and ``ec2``, which push by server-sent events: the real ASGI apps (Fargate's
  ``fargate.app:app``, EC2's ``ec2.app:application`` as its uvicorn workers serve it), each in a
  real uvicorn server on a loopback port in this process;
- ``lambda``, which pushes through API Gateway's WebSocket API: the local Lambda emulator
  (``python -m compare.local.lambda_emu``, started as ``compare.local.runtimes.runtime_spec``
  starts it: ``--websocket --stream-handler app.order_book_stream``), a process of its own whose
  stream poller hands the file's feed to the stream function, which posts to the connections;
- and, to make changes from, the Chalice app in-process and EC2's WSGI side.

The Lambda emulator starts only when a test asks for that runtime.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import httpx
import pytest

from cafe.api import CafeApi
from cafe.api.guard import MAX_FAILURES
from cafe.domain.menu import load_menu
from cafe.observability import Telemetry
from cafe.service import CafeService
from cafe.stores.sqlite import SQLiteStore
from compare.census.server import uvicorn_in_thread
from tests.api.clients import ChaliceClient, ec2_client

STAFF_TOKEN = "push-staff-token-0123456789"
SSE_RUNTIMES = ("fargate", "ec2")  # push by server-sent events, in this process
RUNTIMES = (*SSE_RUNTIMES, "lambda")  # every runtime: the push contract is the same on all
PUSHING = SSE_RUNTIMES  # the older name
AMERICANO = {"customer": "Kim", "items": [{"item_id": "americano", "quantity": 1}]}
# Environments per function in the emulator: few (a 2-core CI box), and the tests never invoke
# one function more often at once than this (a throttled $connect or $disconnect is lost).
LAMBDA_CONCURRENCY = 3
MAX_WAITING = 1000


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sse: the server-sent-events transport only (Fargate, EC2)")
    config.addinivalue_line("markers", "websocket: the WebSocket transport only (Lambda via API Gateway)")


def make_api(runtime: str, path: Path) -> CafeApi:
    service = CafeService(SQLiteStore(str(path)), load_menu(), zone=ZoneInfo("Asia/Seoul"))
    return CafeApi(service, runtime=runtime, staff_token=STAFF_TOKEN, telemetry=Telemetry(runtime))


@dataclass
class Runtime:
    """One runtime as a client sees it: its HTTP API, and how it pushes.

    ``prompt``: within how long a committed change must reach a subscriber (SSE: the hub reads
    the feed every 150 ms; Lambda: the stream poller reads it 4×/s, then a function invocation
    and a post per connection). ``quiet``: how long to listen for a message that must not come,
    once the runtime has caught up with the feed (``caught_up``).
    """

    name: str
    url: str
    api: CafeApi | None  # the in-process API (SSE runtimes); None for a runtime in its own process
    transport: str = "sse"
    ws_url: str | None = None
    prompt: float = 2.0
    quiet: float = 0.6
    emulator: Emulator | None = field(default=None, repr=False)

    def call(
        self,
        method: str,
        path: str,
        document: Any = None,
        *,
        staff: bool | str = False,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = {"Content-Type": "application/json", **(headers or {})}
        if staff:
            sent["Authorization"] = f"Bearer {STAFF_TOKEN if staff is True else staff}"
        content = None if document is None else json.dumps(document).encode()
        return httpx.request(method, self.url + path, content=content, headers=sent, timeout=10)

    def place(self) -> dict[str, Any]:
        answer = self.call("POST", "/orders", AMERICANO)
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def advance(self, order_id: str, status: str) -> dict[str, Any]:
        answer = self.call("POST", f"/orders/{order_id}/status", {"status": status}, staff=True)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    async def caught_up(self) -> None:
        """Return once every change committed so far has been handed to the subscribers."""
        if self.emulator is not None:
            await asyncio.to_thread(self.emulator.wait_caught_up)
        # SSE: the hub fans a batch out as soon as it reads it; ``quiet`` covers its next reads.

    async def closed(self) -> None:
        """After a client closed a connection: return once the runtime has let it go."""
        if self.emulator is not None:
            await asyncio.to_thread(self.emulator.wait_disconnected)


class Emulator:
    """The local Lambda with its WebSocket API and stream poller, on the suite's SQLite file."""

    def __init__(self, path: Path, logs: Path) -> None:
        from compare.local.processes import free_port, start_process
        from compare.local.runtimes import RunOptions, runtime_spec

        self.store = SQLiteStore(str(path))
        spec = runtime_spec(
            "lambda",
            free_port(),
            RunOptions(lambda_concurrency=LAMBDA_CONCURRENCY),  # envelopes off: uncapped
            lambda_log=logs / "lambda.log",
        )
        assert "--websocket" in spec.argv and "--stream-handler" in spec.argv, spec.argv
        env = spec.environment(
            {
                "CAFE_STORE": "sqlite",
                "CAFE_SQLITE_PATH": str(path),
                "CAFE_STAFF_TOKEN": STAFF_TOKEN,
                # As the in-process runtimes' APIs (make_api): whatever the caller's environment says.
                "CAFE_STAFF_MAX_FAILURES": str(MAX_FAILURES),
                "CAFE_STAFF_REQUIRE_HTTPS": "0",
            }
        )
        self.log = logs / "emulator.log"
        self.started = start_process(spec, env, self.log)
        self.url = self.started.url
        self._client = httpx.Client(timeout=10)
        self._stats_lock = threading.Lock()

    def stats(self) -> dict[str, Any]:
        with self._stats_lock:
            return dict(self._client.get(self.url + "/__emulator/stats").json())

    def _wait(self, done: Callable[[dict[str, Any]], bool], what: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            stats = self.stats()
            if done(stats):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the emulator never {what}: {json.dumps(stats)[:2000]}")
            time.sleep(0.005)

    def wait_caught_up(self) -> None:
        """The stream poller has delivered everything up to the feed's latest sequence (the
        stream function has returned, so it has posted all it was going to post)."""
        latest = self.store.latest_sequence()
        self._wait(lambda stats: stats["stream"]["cursor"] >= latest, f"streamed up to {latest}")

    def wait_disconnected(self) -> None:
        """Every connection that is no longer open has been handed to $disconnect, and no
        $disconnect is still running."""

        def settled(stats: dict[str, Any]) -> bool:
            connections = stats["connections"]
            function = stats["functions"]["app.ws_disconnect"]
            handed = function["invocations"] + function["throttles"]
            return (
                connections["opened"] == connections["open"] + connections["closed"]
                and handed >= connections["closed"]
                and function["idle"] == function["environments"]
            )

        self._wait(settled, "finished the $disconnect of closed connections")

    def stop(self) -> None:
        self._client.close()
        self.started.stop()
        self.store.close()


def eventually(check: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    """``check()``'s first true answer within ``timeout`` seconds (for state another process
    settles: the emulator's functions write it after the client has had its answer)."""
    deadline = time.monotonic() + timeout
    while not (answer := check()):
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.01)
    return answer


@dataclass
class Cafe:
    """The runtimes by name on one file, and the in-process ones that make changes only."""

    runtimes: dict[str, Runtime]
    chalice: ChaliceClient
    wsgi: Any  # tests.api.clients.HttpxClient over ec2.app's WSGI side
    path: Path
    logs: Path


@pytest.fixture(scope="package")
def cafe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cafe]:
    import ec2.app
    import fargate.app

    directory = tmp_path_factory.mktemp("push")
    path = directory / "cafe.sqlite3"
    apis = {"fargate": make_api("fargate", path), "ec2": make_api("ec2", path)}
    # Room for every order the suite leaves waiting (a real café caps the queue at tens).
    apis["fargate"].service.update_settings(open=True, max_waiting=MAX_WAITING)
    originals = (fargate.app.cafe_api, ec2.app.cafe_api)
    # The modules look their API up per request: point each at its café on the shared file.
    fargate.app.cafe_api, ec2.app.cafe_api = apis["fargate"], apis["ec2"]
    servers = {"fargate": uvicorn_in_thread(fargate.app.app), "ec2": uvicorn_in_thread(ec2.app.application)}
    chalice = ChaliceClient()
    chalice.module.cafe_api = make_api("lambda", path)
    wsgi = ec2_client()  # ec2.app's WSGI side: the module's cafe_api, the ec2 one above
    try:
        yield Cafe(
            {name: Runtime(name, url, apis[name]) for name, (url, _stop) in servers.items()},
            chalice,
            wsgi,
            path,
            directory,
        )
    finally:
        for _url, stop in servers.values():
            stop()
        fargate.app.cafe_api, ec2.app.cafe_api = originals


@pytest.fixture(scope="package")
def lambda_runtime(cafe: Cafe) -> Iterator[Runtime]:
    """The emulator on the café's file, warmed: every function has one environment, so the
    first test does not wait out cold starts."""
    emulator = Emulator(cafe.path, cafe.logs)
    try:
        live = httpx.get(emulator.url + "/live", timeout=10)
        assert live.status_code == 200, live.text
        assert live.json()["transport"] == "websocket", live.text
        runtime = Runtime(
            "lambda",
            emulator.url,
            None,
            transport="websocket",
            ws_url=live.json()["url"],
            prompt=5.0,
            quiet=0.3,
            emulator=emulator,
        )
        asyncio.run(_warm(runtime))
        cafe.runtimes["lambda"] = runtime
        yield runtime
    finally:
        cafe.runtimes.pop("lambda", None)
        emulator.stop()


async def _warm(runtime: Runtime) -> None:
    order = runtime.place()
    async with aiohttp.ClientSession() as session, session.ws_connect(str(runtime.ws_url)) as ws:
        await ws.send_str(json.dumps({"action": "subscribe", "order_id": order["id"]}))
        assert json.loads((await ws.receive(timeout=30)).data)["type"] == "order"
        runtime.advance(order["id"], "PREPARING")
        assert json.loads((await ws.receive(timeout=30)).data)["order"]["status"] == "PREPARING"
    await runtime.closed()


@pytest.fixture(params=RUNTIMES)
def runtime(request: pytest.FixtureRequest, cafe: Cafe) -> Runtime:
    """Each runtime in turn, with nothing of an earlier test still on its way to subscribers."""
    if request.param == "lambda":
        request.getfixturevalue("lambda_runtime")
    chosen = cafe.runtimes[request.param]
    asyncio.run(chosen.caught_up())
    return chosen


@pytest.fixture(params=SSE_RUNTIMES)
def sse_runtime(request: pytest.FixtureRequest, cafe: Cafe) -> Runtime:
    return cafe.runtimes[request.param]


@pytest.fixture
def every_runtime(cafe: Cafe, lambda_runtime: Runtime) -> dict[str, Runtime]:
    """All three at once, caught up."""
    asyncio.run(lambda_runtime.caught_up())
    return {name: cafe.runtimes[name] for name in RUNTIMES}

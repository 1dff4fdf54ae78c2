"""The local Lambda's WebSocket API, @connections API and stream poller, end to end.

A tiny app of plain handlers stands in for the café (so these tests do not wait for it): its
$connect refuses on request, its $default answers through boto3's `apigatewaymanagementapi`
client at CAFE_WS_CALLBACK_URL, its stream handler fails its first batch. Every handler appends
the event it got to events.jsonl in the app directory, where the tests read it. One test drives
chalice_app's real handlers.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import boto3
import pytest
from botocore.config import Config as BotoConfig

from tests.compare.conftest import free_port, wait_for
from tests.rawsocket import RawWebSocket

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parents[3]

APP = textwrap.dedent("""
    import json, os
    import boto3

    _client = None

    def client():
        global _client
        if _client is None:
            _client = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["CAFE_WS_CALLBACK_URL"])
        return _client

    def record(entry):
        with open("events.jsonl", "a") as handle:
            handle.write(json.dumps(entry) + "\\n")

    def post(connection_id, document):
        client().post_to_connection(ConnectionId=connection_id, Data=json.dumps(document).encode())

    def app(event, context):
        names = ("CAFE_WS_URL", "CAFE_WS_CALLBACK_URL", "AWS_REGION", "AWS_DEFAULT_REGION",
                 "AWS_LAMBDA_FUNCTION_NAME")
        return {"statusCode": 200, "body": json.dumps({name: os.environ.get(name) for name in names})}

    def ws_connect(event, context):
        record({"route": "connect", "event": event, "function": os.environ["AWS_LAMBDA_FUNCTION_NAME"]})
        query = event.get("queryStringParameters") or {}
        if "refuse" in query:
            return {"statusCode": int(query["refuse"]), "body": "go away"}
        if "fail" in query:
            raise RuntimeError("connect failed")
        return {"statusCode": 200}

    def ws_message(event, context):
        connection_id = event["requestContext"]["connectionId"]
        body = event["body"]
        try:
            message = json.loads(body)
        except ValueError:
            message = {"action": "size"}
        action = message.get("action")
        if action == "echo":
            post(connection_id, {"echo": message["n"], "pid": os.getpid()})
        elif action == "size":
            post(connection_id, {"size": len(body)})
        elif action == "event":
            post(connection_id, {"event": event})
        elif action == "manage":
            # The management API from inside a function, as the café's handlers use it.
            found = client().get_connection(ConnectionId=connection_id)
            try:
                post("AAAAAAAAAAAAAAA=", {"never": "sent"})
                gone = False
            except client().exceptions.GoneException:
                gone = True
            post(connection_id, {"gone": gone, "source_ip": found["Identity"]["SourceIp"]})
            client().delete_connection(ConnectionId=connection_id)
        elif action == "boom":
            raise RuntimeError("boom")
        return {"statusCode": 200}

    def ws_disconnect(event, context):
        record({"route": "disconnect", "event": event})
        return {"statusCode": 200}

    def order_book_stream(event, context):
        records = event["Records"]
        sequences = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
        if not os.path.exists("stream-failed-once"):
            open("stream-failed-once", "w").close()
            record({"route": "stream", "ok": False, "sequences": sequences})
            raise RuntimeError("the first batch fails")
        record({"route": "stream", "ok": True, "sequences": sequences, "records": records[:1]})
""")


class Emulator:
    def __init__(
        self, app_dir: Path, *extra: str, env: dict[str, str] | None = None, log_dir: Path | None = None
    ) -> None:
        self.app_dir = app_dir
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "compare.local.lambda_emu",
                "--port",
                str(self.port),
                "--app-dir",
                str(app_dir),
                "--handler",
                "app.app",
                "--envelope",
                "none",
                "--concurrency",
                "4",
                "--timeout",
                "20",
                "--log",
                str((log_dir or app_dir) / "lambda.log"),  # never into the project's chalice_app/
                *extra,
            ],
            env={**os.environ, **(env or {})},
        )
        try:
            wait_for(self.port, self.process, path="/__emulator/stats")
        except BaseException:
            self.process.kill()
            self.process.wait()
            raise

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=30) as response:
            return json.loads(response.read())

    def stats(self) -> dict[str, Any]:
        return dict(self.get("/__emulator/stats"))

    def management(self) -> Any:
        """boto3's own client, pointed at the emulator exactly as the functions point theirs."""
        return boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=f"http://127.0.0.1:{self.port}/api",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=BotoConfig(retries={"max_attempts": 1}),
        )

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def recorded(app_dir: Path, keep: Callable[[dict[str, Any]], bool], count: int = 1) -> list[dict[str, Any]]:
    """The entries the handlers appended that `keep` selects, once there are `count` of them."""
    deadline = time.monotonic() + 30
    while True:
        path = app_dir / "events.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        found = [entry for entry in map(json.loads, lines) if keep(entry)]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def disconnects(app_dir: Path, connection_id: str) -> list[dict[str, Any]]:
    def keep(entry: dict[str, Any]) -> bool:
        context = entry["event"]["requestContext"] if "event" in entry else {}
        return entry["route"] == "disconnect" and context.get("connectionId") == connection_id

    return recorded(app_dir, keep)


async def next_json(ws: aiohttp.ClientWebSocketResponse) -> Any:
    message = await ws.receive(timeout=30)
    assert message.type is aiohttp.WSMsgType.TEXT, (message.type, message.data, message.extra)
    return json.loads(message.data)


async def closed_with(ws: aiohttp.ClientWebSocketResponse) -> int | None:
    message = await ws.receive(timeout=30)
    assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), message
    return ws.close_code


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    app_dir = tmp_path_factory.mktemp("ws-app")
    (app_dir / "app.py").write_text(APP)
    running = Emulator(app_dir, "--websocket")
    yield running
    running.stop()


CONNECTION_ID = re.compile(r"^[A-Za-z0-9_-]{15}=$")


def test_connect_messages_in_order_and_disconnect(emulator: Emulator) -> None:
    async def scenario() -> tuple[str, list[Any], Any, Any]:
        async with aiohttp.ClientSession() as session:
            url = emulator.ws_url + "?room=a&room=b"
            async with session.ws_connect(url, headers={"X-Probe": "yes"}) as ws:
                await ws.send_str(json.dumps({"action": "event"}))
                event = (await next_json(ws))["event"]
                for n in range(8):  # sent at once: the answers must come back in this order
                    await ws.send_str(json.dumps({"action": "echo", "n": n}))
                echoes = [await next_json(ws) for _ in range(8)]
                await ws.send_str(json.dumps({"action": "boom"}))
                failure = await next_json(ws)
                await ws.close(code=1000, message=b"bye")
        return event["requestContext"]["connectionId"], echoes, event, failure

    connection_id, echoes, message_event, failure = asyncio.run(scenario())
    assert CONNECTION_ID.match(connection_id)
    assert [echo["echo"] for echo in echoes] == list(range(8))

    (connect,) = recorded(emulator.app_dir, lambda e: e["route"] == "connect" and "room" in str(e))
    context = connect["event"]["requestContext"]
    assert context["connectionId"] == connection_id and connect["function"] == "cafe-local-ws_connect"
    route = (context["routeKey"], context["eventType"], context["messageDirection"])
    assert route == ("$connect", "CONNECT", "IN")
    assert (context["stage"], context["apiId"]) == ("api", "local")
    assert context["domainName"] == f"127.0.0.1:{emulator.port}"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert abs(context["requestTimeEpoch"] - context["connectedAt"]) < 5_000
    assert connect["event"]["headers"]["X-Probe"] == "yes"
    assert connect["event"]["multiValueQueryStringParameters"] == {"room": ["a", "b"]}

    message_context = message_event["requestContext"]
    assert (message_context["routeKey"], message_context["eventType"]) == ("$default", "MESSAGE")
    assert message_context["connectedAt"] == context["connectedAt"]
    assert message_event["body"] == '{"action": "event"}'

    # A failed integration: API Gateway tells the client in a frame of its own.
    assert failure["message"] == "Internal server error" and failure["connectionId"] == connection_id

    (gone,) = disconnects(emulator.app_dir, connection_id)
    ended = gone["event"]["requestContext"]
    assert (ended["routeKey"], ended["eventType"]) == ("$disconnect", "DISCONNECT")
    assert (ended["disconnectStatusCode"], ended["disconnectReason"]) == (1000, "bye")

    stats = emulator.stats()
    functions = stats["functions"]
    # Four functions, each with its own environments: one cold start each, not one in all.
    for handler in ("app.ws_connect", "app.ws_message", "app.ws_disconnect"):
        assert functions[handler]["cold_starts"] >= 1, handler
    assert functions["app.ws_message"]["invocations"] >= 10
    assert stats["connections"]["message_failures"] >= 1
    assert "REPORT RequestId" in (emulator.app_dir / "lambda.ws_message.log").read_text()


def test_functions_are_told_where_the_websocket_api_is(emulator: Emulator) -> None:
    env = emulator.get("/anything")
    assert env["CAFE_WS_URL"] == emulator.ws_url
    assert env["CAFE_WS_CALLBACK_URL"] == f"http://127.0.0.1:{emulator.port}/api"
    assert env["AWS_REGION"] and env["AWS_DEFAULT_REGION"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "cafe-local"


def test_management_api_through_boto3(emulator: Emulator) -> None:
    client = emulator.management()

    async def scenario() -> None:
        async with (
            aiohttp.ClientSession(headers={"User-Agent": "probe/1"}) as session,
            session.ws_connect(emulator.ws_url) as ws,
        ):
            await ws.send_str(json.dumps({"action": "event"}))
            connection_id = (await next_json(ws))["event"]["requestContext"]["connectionId"]

            await asyncio.to_thread(client.post_to_connection, ConnectionId=connection_id, Data=b'{"hi":1}')
            assert await next_json(ws) == {"hi": 1}

            found = await asyncio.to_thread(client.get_connection, ConnectionId=connection_id)
            assert found["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "probe/1"}
            assert abs(found["ConnectedAt"].timestamp() - time.time()) < 60
            assert found["LastActiveAt"] >= found["ConnectedAt"]

            with pytest.raises(client.exceptions.PayloadTooLargeException):
                await asyncio.to_thread(
                    client.post_to_connection, ConnectionId=connection_id, Data=b"x" * (128 * 1024 + 1)
                )

            await asyncio.to_thread(client.delete_connection, ConnectionId=connection_id)
            assert await closed_with(ws) == 1000
            for call in (client.post_to_connection, client.get_connection, client.delete_connection):
                kwargs = {"Data": b"late"} if call == client.post_to_connection else {}
                with pytest.raises(client.exceptions.GoneException):
                    await asyncio.to_thread(call, ConnectionId=connection_id, **kwargs)
            (gone,) = await asyncio.to_thread(disconnects, emulator.app_dir, connection_id)
            context = gone["event"]["requestContext"]
            assert (context["disconnectStatusCode"], context["disconnectReason"]) == (
                1000,
                "Connection Closed Normally",
            )

    asyncio.run(scenario())


def test_management_api_from_inside_a_function(emulator: Emulator) -> None:
    async def scenario() -> tuple[Any, int | None]:
        async with aiohttp.ClientSession() as session, session.ws_connect(emulator.ws_url) as ws:
            await ws.send_str(json.dumps({"action": "manage"}))
            answer = await next_json(ws)
            return answer, await closed_with(ws)

    answer, code = asyncio.run(scenario())
    assert answer == {"gone": True, "source_ip": "127.0.0.1"}
    assert code == 1000  # the function deleted its own connection


def test_connect_refused_by_status_or_failure(emulator: Emulator) -> None:
    async def status_of(query: str) -> int:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(emulator.ws_url + query)
            return refused.value.status

    refused_before = emulator.stats()["connections"]["refused"]
    assert asyncio.run(status_of("?refuse=403")) == 403
    assert asyncio.run(status_of("?fail=1")) == 502
    stats = emulator.stats()["connections"]
    assert stats["refused"] == refused_before + 2
    # A plain GET on the WebSocket URL is not an upgrade.
    request = urllib.request.Request(emulator.ws_url.replace("ws://", "http://"))  # noqa: S310 - local
    with pytest.raises(urllib.error.HTTPError) as plain:
        urllib.request.urlopen(request, timeout=10)  # noqa: S310 - local
    assert plain.value.code == 426


def test_frame_and_message_limits_and_binary_frames(emulator: Emulator) -> None:
    # 100 KB in four 25 KB frames is within both limits: delivered whole.
    raw = RawWebSocket(emulator.ws_url)
    try:
        body = b"x" * 25_000
        raw.send(body, 0x1, fin=False)
        raw.send(body, 0x0, fin=False)
        raw.send(body, 0x0, fin=False)
        raw.send(body, 0x0, fin=True)
        opcode, answer = raw.receive()
        assert (opcode, json.loads(answer)) == (0x1, {"size": 100_000})
        # The same 40 KB as one frame is past the 32 KB frame limit.
        raw.send(b"y" * 40_000)
        assert raw.close_code() == 1009
    finally:
        raw.close()

    raw = RawWebSocket(emulator.ws_url)
    try:  # past 128 KB in 32 KB frames: the message limit (one write: the server stops reading midway)
        frames = (RawWebSocket.frame(b"z" * 32 * 1024, 0x1 if n == 0 else 0x0, fin=n == 4) for n in range(5))
        raw.sock.sendall(b"".join(frames))
        assert raw.close_code() == 1009
    finally:
        raw.close()

    async def binary() -> int | None:
        async with aiohttp.ClientSession() as session, session.ws_connect(emulator.ws_url) as ws:
            await ws.send_bytes(b"\x00\x01")
            return await closed_with(ws)

    assert asyncio.run(binary()) == 1003  # API Gateway accepts no binary frames

    def limited(entry: dict[str, Any]) -> bool:  # only this test's connections end so
        ended = entry["event"]["requestContext"] if entry["route"] == "disconnect" else {}
        return ended.get("disconnectStatusCode") in (1003, 1009)

    ends = recorded(emulator.app_dir, limited, 3)
    assert sorted(e["event"]["requestContext"]["disconnectStatusCode"] for e in ends) == [1003, 1009, 1009]


def test_a_client_that_never_reads_gets_limit_exceeded_not_a_stuck_poster(emulator: Emulator) -> None:
    client = emulator.management()
    slow = RawWebSocket(emulator.ws_url, receive_buffer=4096)
    try:
        slow.send(json.dumps({"action": "event"}).encode())
        _opcode, answer = slow.receive()  # its id; from here on it reads nothing
        slow_id = json.loads(answer)["event"]["requestContext"]["connectionId"]

        async def scenario() -> None:
            async with aiohttp.ClientSession() as session, session.ws_connect(emulator.ws_url) as ws:
                await ws.send_str(json.dumps({"action": "event"}))
                reader_id = (await next_json(ws))["event"]["requestContext"]["connectionId"]
                slowest = 0.0
                with pytest.raises(client.exceptions.LimitExceededException):
                    for _ in range(300):  # ~30 MB at most: the kernel's buffers fill first
                        started = time.monotonic()
                        try:
                            await asyncio.to_thread(
                                client.post_to_connection, ConnectionId=slow_id, Data=b"x" * 100_000
                            )
                        finally:
                            slowest = max(slowest, time.monotonic() - started)
                # Every post was answered at once (none waited for the slow client to drain), and
                # the others' connections are untouched.
                assert slowest < 2.0
                await asyncio.to_thread(client.post_to_connection, ConnectionId=reader_id, Data=b'{"ok":1}')
                assert await next_json(ws) == {"ok": 1}

        asyncio.run(scenario())
        assert emulator.stats()["connections"]["limited"] >= 1
    finally:
        slow.close()


def test_idle_and_maximum_connection_time(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    emulator = Emulator(tmp_path, "--websocket", "--ws-idle-timeout", "1.5", "--ws-max-duration", "4")
    try:

        async def warm() -> None:  # cold starts out of the way: the timings below are the limits'
            async with aiohttp.ClientSession() as session, session.ws_connect(emulator.ws_url) as ws:
                await ws.send_str(json.dumps({"action": "size"}))
                await next_json(ws)

        async def idle() -> tuple[float, int | None]:
            started = time.monotonic()
            async with aiohttp.ClientSession() as session, session.ws_connect(emulator.ws_url) as ws:
                code = await closed_with(ws)
                return time.monotonic() - started, code

        async def chatty() -> tuple[float, int | None]:
            started = time.monotonic()
            async with aiohttp.ClientSession() as session, session.ws_connect(emulator.ws_url) as ws:
                while True:
                    await ws.send_str(json.dumps({"action": "quiet"}))  # activity; nothing comes back
                    try:
                        message = await ws.receive(timeout=0.4)
                    except TimeoutError:
                        continue
                    assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), message
                    return time.monotonic() - started, ws.close_code

        async def both() -> list[tuple[float, int | None]]:
            await warm()
            return list(await asyncio.gather(idle(), chatty()))

        (idle_after, idle_code), (chatty_after, chatty_code) = asyncio.run(both())
        assert idle_code == 1001 and 1.4 < idle_after < 3.0
        assert chatty_code == 1001 and 3.9 < chatty_after < 6.5  # kept alive past the idle timeout
        ends = [
            e["event"]["requestContext"] for e in recorded(tmp_path, lambda e: e["route"] == "disconnect", 3)
        ]
        ended = [(end["disconnectStatusCode"], end["disconnectReason"]) for end in ends]
        assert ended.count((1001, "Going away")) == 2  # and the warm-up's own, closed by its client
    finally:
        emulator.stop()


def test_stream_poller_delivers_at_least_once_from_the_latest_change(tmp_path: Path) -> None:
    from cafe.stores.sqlite import SQLiteStore

    (tmp_path / "app.py").write_text(APP)
    database = tmp_path / "cafe.sqlite3"
    store = SQLiteStore(str(database))
    store.set_item_available("latte", False)  # before the emulator starts: LATEST skips it
    before = store.latest_sequence()
    env = {"CAFE_STORE": "sqlite", "CAFE_SQLITE_PATH": str(database)}
    emulator = Emulator(tmp_path, "--stream-handler", "app.order_book_stream", env=env)
    try:
        assert emulator.stats()["stream"]["cursor"] == before
        for available in (True, False, True):
            store.set_item_available("mocha", available)
        ok = recorded(tmp_path, lambda e: e["route"] == "stream" and e["ok"])
        failed = recorded(tmp_path, lambda e: e["route"] == "stream" and not e["ok"])
        # The first batch failed and came again, the same records; the cursor waited for it.
        assert failed[0]["sequences"] == ok[0]["sequences"]
        assert ok[0]["sequences"][0] == before + 1

        for index in range(150):
            store.set_item_available(f"item{index}", index % 2 == 0)
        last = store.latest_sequence()
        batches = recorded(
            tmp_path,
            lambda e: e["route"] == "stream" and e["ok"] and e["sequences"][-1] == last,
        )
        assert batches, "the last change never reached the stream function"
        successes = recorded(tmp_path, lambda e: e["route"] == "stream" and e["ok"])
        delivered = [n for e in successes for n in e["sequences"]]
        assert delivered == list(range(before + 1, last + 1))  # each once, in order, none before LATEST
        sizes = [len(e["sequences"]) for e in recorded(tmp_path, lambda e: e["route"] == "stream")]
        assert max(sizes) <= 100

        record = ok[0]["records"][0]
        assert (record["eventSource"], record["eventName"]) == ("aws:dynamodb", "MODIFY")
        assert record["dynamodb"]["StreamViewType"] == "NEW_IMAGE" and record["dynamodb"]["NewImage"]

        stats = emulator.stats()
        assert stats["stream"]["cursor"] == last and stats["stream"]["failures"] == 1
        assert stats["stream"]["records"] == last - before
        assert stats["functions"]["app.order_book_stream"]["cold_starts"] >= 1
        assert stats["functions"]["app.app"]["invocations"] == 0  # its own function, not the HTTP one
    finally:
        emulator.stop()


def test_the_cafe_pushes_through_the_emulator(tmp_path: Path) -> None:
    token = "staff-" + base64.urlsafe_b64encode(os.urandom(12)).decode()
    env = {
        "CAFE_STORE": "sqlite",
        "CAFE_SQLITE_PATH": str(tmp_path / "cafe.sqlite3"),
        "CAFE_STAFF_TOKEN": token,
    }
    emulator = Emulator(
        ROOT / "chalice_app",
        "--websocket",
        "--stream-handler",
        "app.order_book_stream",
        env=env,
        log_dir=tmp_path,
    )
    base = f"http://127.0.0.1:{emulator.port}"

    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            async with session.get(base + "/live") as answer:
                assert await answer.json() == {"transport": "websocket", "url": emulator.ws_url}
            order_json = {"customer": "Kim", "items": [{"item_id": "americano", "quantity": 1}]}
            async with session.post(base + "/orders", json=order_json) as answer:
                assert answer.status == 201, await answer.text()
                order = await answer.json()
            async with session.ws_connect(emulator.ws_url) as ws:
                await ws.send_str(json.dumps({"action": "ping"}))
                assert await next_json(ws) == {"type": "pong"}
                await ws.send_str(json.dumps({"action": "subscribe", "order_id": order["id"]}))
                first = await next_json(ws)
                assert first["type"] == "order" and first["order"]["id"] == order["id"]
                staff = {"Authorization": f"Bearer {token}"}
                path = f"{base}/orders/{order['id']}/status"
                async with session.post(path, json={"status": "PREPARING"}, headers=staff) as answer:
                    assert answer.status == 200, await answer.text()
                pushed = await next_json(ws)  # through the stream poller and order_book_stream
                assert pushed["type"] == "order" and pushed["order"]["status"] == "PREPARING"

    try:
        asyncio.run(scenario())
        stats = emulator.stats()
        assert stats["functions"]["app.order_book_stream"]["invocations"] >= 1
        assert stats["connections"]["posts"] >= 3
    finally:
        emulator.stop()

"""API Gateway's WebSocket API in front of three functions: $connect, $default and $disconnect.

As on API Gateway: the upgrade waits for the $connect function and is refused with its status
when that is not 2xx (or the function fails); each text message becomes a $default invocation,
in order per connection; a binary frame closes the connection with 1003 (API Gateway accepts no
binary frames); the connection is closed after 10 minutes without a frame from the client and
after 2 hours in all; $disconnect runs once the connection is gone, however it ended. The
connections are what the @connections API (connections_api.py) posts to, reads and closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.http import WebSocketError

from compare.local.lambda_emu.events import gateway_error, proxy_response_to_http
from compare.local.lambda_emu.frames import FRAME_LIMIT, MESSAGE_LIMIT, GatewayWebSocket
from compare.local.lambda_emu.invoke import Outcome, invoke
from compare.local.lambda_emu.runtime import Pool
from compare.local.lambda_emu.ws_events import (
    DISCONNECT_REASONS,
    ConnectionInfo,
    connect_event,
    disconnect_event,
    integration_error,
    message_event,
    new_id,
)

WS_PATH = "/ws"
INBOX = 64  # messages read ahead of the $default function; past it the socket is not read (TCP backpressure)


@dataclass(frozen=True)
class WebSocketLimits:
    """API Gateway's WebSocket quotas ("Amazon API Gateway quotas for WebSocket APIs")."""

    idle_timeout_s: float = 600.0
    max_duration_s: float = 7200.0
    frame_limit: int = FRAME_LIMIT
    message_limit: int = MESSAGE_LIMIT
    # Bytes waiting for a client that does not read, past which a post answers LimitExceeded
    # ("the WebSocket client side buffer is full"); API Gateway does not say how much it keeps.
    write_buffer_limit: int = 1024 * 1024


@dataclass(frozen=True)
class WebSocketFunctions:
    connect: Pool
    message: Pool
    disconnect: Pool


@dataclass(eq=False)
class Connection:
    info: ConnectionInfo
    ws: GatewayWebSocket
    transport: asyncio.Transport | None
    last_active: float = field(default_factory=time.time)
    closing: tuple[int, str] | None = None  # set when the emulator (not the client) closes it
    inbox: asyncio.Queue[str | None] = field(default_factory=lambda: asyncio.Queue(INBOX))
    # (code, reason) when the @connections API or a time limit ends the connection. The reading
    # task closes the socket itself: aiohttp's close() from another task while receive() waits
    # drops the TCP connection without waiting for the client's close frame, and clients then
    # see 1006 instead of the code sent.
    close_request: asyncio.Future[tuple[int, str]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def touch(self) -> None:
        self.last_active = time.time()


def _connect_refusal(outcome: Outcome) -> web.Response | None:
    """None when the $connect function accepted the connection, else the answer to the upgrade."""
    if outcome.ok and isinstance(outcome.result, dict):
        response = proxy_response_to_http(outcome.result)
        if 200 <= response.status < 300:
            return None
    elif outcome.status == "throttled":
        response = gateway_error(500, "Internal server error")
    elif outcome.status == "timeout":
        response = gateway_error(504, "Endpoint request timed out")
    else:
        response = gateway_error(502, "Internal server error")
    out = web.Response(status=response.status, body=response.body)
    for name, value in response.headers:
        out.headers.add(name, value)
    return out


def _subprotocol(outcome: Outcome) -> str | None:
    """API Gateway completes a subprotocol only when $connect answers Sec-WebSocket-Protocol."""
    if not isinstance(outcome.result, dict):
        return None
    headers = outcome.result.get("headers") or {}
    for name, value in headers.items():
        if str(name).lower() == "sec-websocket-protocol":
            return str(value)
    return None


def _settle_drain(sending: asyncio.Future[None]) -> None:
    """A send that waited for its client ended; a connection gone meanwhile is not an error here."""
    if not sending.cancelled():
        sending.exception()


class WebSocketApi:
    """The WebSocket front and its table of open connections."""

    def __init__(self, functions: WebSocketFunctions, limits: WebSocketLimits = WebSocketLimits()) -> None:
        self.functions = functions
        self.limits = limits
        self.connections: dict[str, Connection] = {}
        self._running: set[asyncio.Task[Any]] = set()  # the handlers of open connections
        self._draining: set[asyncio.Future[None]] = set()  # sends waiting for a slow client
        self.counts = dict.fromkeys(
            ("opened", "refused", "closed", "messages", "message_failures", "posts", "gone", "limited"), 0
        )

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(WS_PATH, self.handle)

    # --- the connection's life -----------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        if not web.WebSocketResponse().can_prepare(request).ok:
            return web.json_response({"message": "Upgrade Required"}, status=426)
        info = ConnectionInfo(
            connection_id=new_id(),
            connected_at_ms=int(time.time() * 1000),
            source_ip=request.remote or "127.0.0.1",
            user_agent=request.headers.get("User-Agent"),
            domain_name=request.host,
        )
        event = connect_event(info, list(request.headers.items()), list(request.query.items()))
        outcome = await invoke(self.functions.connect, event)
        refusal = _connect_refusal(outcome)
        if refusal is not None:
            self.counts["refused"] += 1
            return refusal
        protocol = _subprotocol(outcome)
        ws = GatewayWebSocket(
            frame_limit=self.limits.frame_limit,
            max_msg_size=self.limits.message_limit,
            autoping=False,  # pings are read here: a client's ping counts as activity
            protocols=(protocol,) if protocol else (),
        )
        await ws.prepare(request)
        connection = Connection(info, ws, request.transport)
        self.connections[info.connection_id] = connection
        self.counts["opened"] += 1
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            await self._serve(connection)
        finally:
            if task is not None:
                self._running.discard(task)
        return ws

    async def _serve(self, connection: Connection) -> None:
        deliver = asyncio.create_task(self._deliver(connection))
        watch = asyncio.create_task(self._watch(connection))
        code, reason = 1006, DISCONNECT_REASONS[1006]
        try:
            code, reason = await self._read(connection)
        finally:
            self.connections.pop(connection.info.connection_id, None)
            watch.cancel()
            # Messages read before the end are still delivered (each invocation is bounded by the
            # function timeout), then the connection's $disconnect runs.
            await connection.inbox.put(None)
            await deliver
            self.counts["closed"] += 1
            await invoke(self.functions.disconnect, disconnect_event(connection.info, code, reason))

    async def _read(self, connection: Connection) -> tuple[int, str]:
        """Read frames until the connection ends; (disconnectStatusCode, disconnectReason)."""
        ws = connection.ws
        while True:
            receiving = asyncio.ensure_future(ws.receive())
            try:
                await asyncio.wait((receiving, connection.close_request), return_when=asyncio.FIRST_COMPLETED)
            except BaseException:  # the server is stopping: leave no read behind
                receiving.cancel()
                raise
            if not receiving.done():
                receiving.cancel()  # a frame not yet read stays unread: the connection is ending
                with contextlib.suppress(asyncio.CancelledError):
                    await receiving
                connection.closing = connection.close_request.result()
                code, reason = connection.closing
                await ws.close(code=code, message=reason.encode())
                return connection.closing
            msg = receiving.result()
            if msg.type is WSMsgType.TEXT:
                connection.touch()
                await self._enqueue(connection, msg.data)
            elif msg.type is WSMsgType.BINARY:
                connection.touch()
                connection.closing = (1003, DISCONNECT_REASONS[1003])
                await ws.close(code=1003, message=b"Binary frames are not supported")
                break
            elif msg.type is WSMsgType.PING:
                connection.touch()
                await ws.pong(msg.data)
            elif msg.type is WSMsgType.PONG:
                connection.touch()
            else:
                break
        if connection.closing is not None:
            return connection.closing
        if msg.type is WSMsgType.CLOSE:
            code = int(msg.data or 1005)
            return code, str(msg.extra or "") or DISCONNECT_REASONS.get(code, "")
        # ERROR: aiohttp closed it for a protocol error, with the error's code (1009: a message or
        # frame too big); its close_code may say 1006 by now if the client never answered the
        # close. CLOSED: the transport went away without a close frame (aiohttp says 1000 then).
        code = msg.data.code if isinstance(msg.data, WebSocketError) else 1006
        return code, DISCONNECT_REASONS.get(code, "")

    @staticmethod
    async def _enqueue(connection: Connection, body: str) -> None:
        """Queue a message for $default; while the queue is full the socket is not read, but a
        close request (the @connections API, a time limit) is still heard."""
        putting = asyncio.ensure_future(connection.inbox.put(body))
        await asyncio.wait((putting, connection.close_request), return_when=asyncio.FIRST_COMPLETED)
        if not putting.done():
            putting.cancel()  # the connection is ending: this message is dropped with it

    async def _deliver(self, connection: Connection) -> None:
        """$default invocations, one at a time, in the order the messages arrived."""
        while (body := await connection.inbox.get()) is not None:
            event = message_event(connection.info, body)
            outcome = await invoke(self.functions.message, event)
            self.counts["messages"] += 1
            if not outcome.ok:
                self.counts["message_failures"] += 1
                frame = integration_error(connection.info, event["requestContext"]["requestId"])
                await self._send(connection, frame.encode())

    async def _watch(self, connection: Connection) -> None:
        """Close the connection when it has been idle too long or open too long (1001 Going away)."""
        opened = connection.info.connected_at_ms / 1000
        while True:
            deadline = min(
                connection.last_active + self.limits.idle_timeout_s, opened + self.limits.max_duration_s
            )
            wait = deadline - time.time()
            if wait <= 0:
                self.close(connection.info.connection_id, 1001, DISCONNECT_REASONS[1001])
                return
            await asyncio.sleep(wait)

    # --- what the @connections API and the emulator do to connections --------------------------
    def close(self, connection_id: str, code: int = 1000, reason: str = DISCONNECT_REASONS[1000]) -> bool:
        """Start closing a connection (it is gone for posts at once); False if it is not open."""
        connection = self.connections.pop(connection_id, None)
        if connection is None:
            return False
        if not connection.close_request.done():
            connection.close_request.set_result((code, reason))
        return True

    async def post(self, connection_id: str, data: bytes) -> str:
        """Send `data` to a connection: "sent", "gone" (no such open connection) or "limited"."""
        connection = self.connections.get(connection_id)
        sent = "gone" if connection is None else await self._send(connection, data)
        self.counts["posts" if sent == "sent" else sent] += 1
        return sent

    async def _send(self, connection: Connection, data: bytes) -> str:
        """One frame, never waiting for the client: "sent", "gone" or "limited" (it does not read)."""
        if connection.ws.closed:
            return "gone"
        transport = connection.transport
        if transport is not None and transport.get_write_buffer_size() > self.limits.write_buffer_limit:
            return "limited"
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            sending = asyncio.ensure_future(connection.ws.send_bytes(data))
        else:
            sending = asyncio.ensure_future(connection.ws.send_str(text))
        # The send's first step runs before this coroutine resumes (the loop runs ready callbacks
        # in order) and writes the whole frame; what may follow is a wait for a slow reader to
        # drain. The frame is on its way then, so the post is answered at once, as API Gateway
        # answers it; the buffer check above refuses the next one if the client never reads.
        await asyncio.sleep(0)
        if not sending.done():
            self._draining.add(sending)
            sending.add_done_callback(_settle_drain)
            sending.add_done_callback(self._draining.discard)
        elif sending.cancelled() or sending.exception() is not None:
            return "gone"
        return "sent"

    async def close_all(self, timeout_s: float = 5.0) -> None:
        """Close every connection (1001 Going away) and wait for their $disconnect invocations;
        briefly: whoever stops the emulator gives it a grace period (compare.local.processes: 10 s)."""
        for connection_id in list(self.connections):
            self.close(connection_id, 1001, DISCONNECT_REASONS[1001])
        if self._running:
            await asyncio.wait(list(self._running), timeout=timeout_s)

    def figures(self) -> dict[str, Any]:
        return {"open": len(self.connections), **self.counts}

    def describe(self, connection_id: str) -> Mapping[str, Any] | None:
        connection = self.connections.get(connection_id)
        if connection is None:
            return None
        return {
            "connected_at": connection.info.connected_at_ms / 1000,
            "last_active_at": connection.last_active,
            "source_ip": connection.info.source_ip,
            "user_agent": connection.info.user_agent or "",
        }

"""The WebSocket front's pure parts: the frame-size guard on any split of the byte stream, and
API Gateway's event shapes."""

from __future__ import annotations

import os
import random
import re
import struct
from typing import Any

import pytest
from aiohttp.http import WebSocketError

from compare.local.lambda_emu.frames import FrameGuard
from compare.local.lambda_emu.ws_events import (
    ConnectionInfo,
    clf_time,
    connect_event,
    disconnect_event,
    message_event,
    new_id,
)


def frame(opcode: int, size: int, fin: bool = True, masked: bool = True) -> bytes:
    """A client frame (masked, as clients must send) of `size` payload bytes."""
    head = bytes([(0x80 if fin else 0) | opcode])
    mask_bit = 0x80 if masked else 0
    if size < 126:
        head += bytes([mask_bit | size])
    elif size < 65536:
        head += bytes([mask_bit | 126]) + struct.pack("!H", size)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", size)
    return head + (os.urandom(4) if masked else b"") + b"p" * size


class Parser:
    def __init__(self) -> None:
        self.fed = bytearray()

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        self.fed += data
        return False, b""

    def feed_eof(self) -> None:
        pass


class Queue:
    def __init__(self) -> None:
        self.error: BaseException | None = None

    def set_exception(self, exc: BaseException) -> None:
        self.error = exc


SPLITS = [*range(5), "bytewise"]  # random chunk sizes (seeds), and one byte at a time


def run(stream: bytes, limit: int, split: int | str) -> tuple[Parser, Queue, FrameGuard]:
    """Feed `stream` to a guard in chunks that cut headers anywhere."""
    parser, queue = Parser(), Queue()
    guard = FrameGuard(parser, queue, limit)
    chance = random.Random(split)
    index = 0
    while index < len(stream):
        step = 1 if split == "bytewise" else chance.choice((1, 2, 3, 5, 8, 13, 700, 70_000))
        guard.feed_data(stream[index : index + step])
        index += step
    return parser, queue, guard


@pytest.mark.parametrize("split", SPLITS)
def test_frames_within_the_limit_pass_untouched(split: int | str) -> None:
    stream = b"".join(
        [
            frame(0x1, 0),
            frame(0x1, 125),
            frame(0x1, 126, fin=False),  # 16-bit length
            frame(0x0, 1000),
            frame(0x9, 4),  # a ping between fragments
            frame(0x0, 70_000, fin=True),  # 64-bit length
            frame(0x2, 70_000),
        ]
    )
    parser, queue, guard = run(stream, 70_000, split)
    assert bytes(parser.fed) == stream and queue.error is None and not guard.tripped


@pytest.mark.parametrize("split", SPLITS)
def test_the_first_frame_past_the_limit_ends_the_connection_with_1009(split: int | str) -> None:
    before = frame(0x1, 30_000, fin=False) + frame(0x0, 32 * 1024)
    oversize = frame(0x1, 32 * 1024 + 1)
    stream = before + oversize + frame(0x1, 5)
    parser, queue, guard = run(stream, 32 * 1024, split)
    assert guard.tripped
    assert isinstance(queue.error, WebSocketError) and queue.error.code == 1009
    # The frames before it reached the parser whole; of the oversize frame at most the part of
    # its 8-byte header that came in an earlier chunk, of its payload and what follows nothing.
    assert bytes(parser.fed[: len(before)]) == before
    assert oversize.startswith(bytes(parser.fed[len(before) :])) and len(parser.fed) - len(before) < 8


def test_a_control_frame_is_not_held_to_the_data_limit() -> None:
    parser, queue, _guard = run(frame(0x9, 100) + frame(0x1, 10), 50, 0)
    assert queue.error is None and len(parser.fed) == 2 + 4 + 100 + 2 + 4 + 10


INFO = ConnectionInfo("abcdefghijklmno=", 1_700_000_000_000, "10.0.0.1", "probe/1", "127.0.0.1:8001")


def test_ids_look_like_api_gateways() -> None:
    ids = {new_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{15}=", value) for value in ids)
    assert clf_time(1_707_502_303.4) == "09/Feb/2024:18:11:43 +0000"


def test_connect_event_carries_headers_and_query_only_when_given() -> None:
    event = connect_event(INFO, [("Host", "h"), ("X-A", "1"), ("X-A", "2")], [])
    assert "queryStringParameters" not in event
    assert event["headers"]["X-A"] == "2" and event["multiValueHeaders"]["X-A"] == ["1", "2"]
    assert event["headers"]["X-Forwarded-For"] == "10.0.0.1"
    context: dict[str, Any] = event["requestContext"]
    assert context["connectedAt"] == INFO.connected_at_ms and context["identity"]["userAgent"] == "probe/1"
    assert context["requestId"] != connect_event(INFO, [], [])["requestContext"]["requestId"]
    with_query = connect_event(INFO, [], [("a", "1"), ("a", "2")])
    assert with_query["queryStringParameters"] == {"a": "2"}


def test_message_and_disconnect_events() -> None:
    message = message_event(INFO, "hello")
    assert message["body"] == "hello" and message["requestContext"]["messageId"]
    assert "headers" not in message
    gone = disconnect_event(INFO, 1001, "Going away")["requestContext"]
    assert (gone["routeKey"], gone["disconnectStatusCode"], gone["disconnectReason"]) == (
        "$disconnect",
        1001,
        "Going away",
    )

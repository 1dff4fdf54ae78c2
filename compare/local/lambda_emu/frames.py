"""API Gateway's WebSocket size limits on aiohttp: a frame ≤ 32 KB and a message ≤ 128 KB.

aiohttp bounds a whole message (`max_msg_size`, closing with 1009) but assembles frames out of
sight, and a browser sends a message as one frame: API Gateway closes a 40 KB message sent as one
frame, yet accepts 100 KB sent as four. So a `FrameGuard` sits in front of aiohttp's parser and
reads each frame header (RFC 6455 §5.2) as the bytes go by; a data frame past the limit ends the
connection with 1009, as an oversize message does. It is installed right after the handshake,
before the client (which waits for the 101) can have sent a byte, so it starts on a frame boundary.
"""

from __future__ import annotations

from typing import Any

from aiohttp import WSCloseCode, web
from aiohttp.http import WebSocketError, WebSocketWriter
from aiohttp.web_request import BaseRequest

FRAME_LIMIT = 32 * 1024
MESSAGE_LIMIT = 128 * 1024
_DATA_OPCODES = frozenset({0x0, 0x1, 0x2})  # continuation, text, binary (control frames are ≤ 125 B)


def _header_length(header: bytearray) -> int | None:
    """The full header's length once its first two bytes are known."""
    if len(header) < 2:
        return None
    length7 = header[1] & 0x7F
    extended = 2 if length7 == 126 else 8 if length7 == 127 else 0
    return 2 + extended + (4 if header[1] & 0x80 else 0)


def _payload_length(header: bytearray) -> int:
    length7 = header[1] & 0x7F
    if length7 == 126:
        return int.from_bytes(header[2:4], "big")
    if length7 == 127:
        return int.from_bytes(header[2:10], "big")
    return length7


class FrameGuard:
    """A parser wrapper: frame headers are read here, everything is parsed by aiohttp's parser."""

    def __init__(self, parser: Any, queue: Any, limit: int = FRAME_LIMIT) -> None:
        self.parser = parser
        self.queue = queue  # where the parser puts messages; an error set there closes the socket
        self.limit = limit
        self._header = bytearray()
        self._skip = 0  # payload bytes of the current frame still to pass
        self.tripped = False

    def _oversize_at(self, data: bytes) -> tuple[int, int] | None:
        """(offset of the frame's first byte, its payload length) for the first data frame past
        the limit in `data`, else None; the scan state carries over to the next chunk."""
        index, end = 0, len(data)
        start = 0  # where the frame whose header is being read began (0: in an earlier chunk)
        while index < end:
            if self._skip:
                step = min(self._skip, end - index)
                self._skip -= step
                index += step
                continue
            if not self._header:
                start = index
            self._header.append(data[index])
            index += 1
            total = _header_length(self._header)
            if total is None or len(self._header) < total:
                continue
            opcode, length = self._header[0] & 0x0F, _payload_length(self._header)
            self._header.clear()
            if opcode in _DATA_OPCODES and length > self.limit:
                return start, length
            self._skip = length
        return None

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        if self.tripped:
            return False, b""  # the connection is closing; nothing more is read
        found = self._oversize_at(data)
        if found is None:
            result: tuple[bool, bytes] = self.parser.feed_data(data)
            return result
        offset, length = found
        self.tripped = True
        if offset:
            self.parser.feed_data(data[:offset])  # the whole frames before it are still delivered
        message = f"frame of {length} bytes exceeds the {self.limit}-byte frame limit"
        self.queue.set_exception(WebSocketError(WSCloseCode.MESSAGE_TOO_BIG, message))
        return False, b""

    def feed_eof(self) -> None:
        self.parser.feed_eof()


class GatewayWebSocket(web.WebSocketResponse):
    """A WebSocketResponse with API Gateway's frame and message limits."""

    def __init__(self, *, frame_limit: int = FRAME_LIMIT, **kwargs: Any) -> None:
        # No permessage-deflate (API Gateway negotiates none), so a frame's size is its wire size.
        kwargs.setdefault("max_msg_size", MESSAGE_LIMIT)
        super().__init__(compress=False, **kwargs)
        self.frame_limit = frame_limit

    def _post_start(self, request: BaseRequest, protocol: str | None, writer: WebSocketWriter) -> None:
        super()._post_start(request, protocol, writer)
        handler = request.protocol
        parser = getattr(handler, "_payload_parser", None)
        if parser is not None and self._reader is not None:
            handler._payload_parser = FrameGuard(parser, self._reader, self.frame_limit)

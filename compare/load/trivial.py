"""A trivial HTTP/1.1 server: the fastest thing the generator can be pointed at.

It answers every request with a tiny JSON body and keeps connections alive. It exists to show the
load generator is not the bottleneck (the headroom check) and, with `stall`, to hold responses for
a while so tests can check that latency is counted from the intended send time. Deliberately a
bare asyncio protocol rather than a framework: any framework would be slower than what it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass

_BODY = b'{"status":"ok","runtime":"trivial"}'
_RESPONSE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
    + str(len(_BODY)).encode()
    + b"\r\n\r\n"
    + _BODY
)


@dataclass
class Stall:
    """Requests that arrive in [start, end) (time.monotonic) are answered at `end`; every other
    answer is held `delay` seconds."""

    start: float = 0.0
    end: float = 0.0
    delay: float = 0.0


class _Protocol(asyncio.Protocol):
    def __init__(self, stall: Stall) -> None:
        self.stall = stall
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            length = 0
            for line in self.buffer[:head_end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            end = head_end + 4 + length
            if len(self.buffer) < end:
                return
            self.buffer = self.buffer[end:]
            self._answer()

    def _answer(self) -> None:
        now = time.monotonic()
        if self.stall.start <= now < self.stall.end:
            asyncio.get_running_loop().call_later(self.stall.end - now, self._write)
        elif self.stall.delay > 0:
            asyncio.get_running_loop().call_later(self.stall.delay, self._write)
        else:
            self._write()

    def _write(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_RESPONSE)


async def start_trivial_server(
    host: str = "127.0.0.1", port: int = 0, stall: Stall | None = None
) -> asyncio.Server:
    """Start the server in the running loop; the bound port is server.sockets[0].getsockname()[1]."""
    shared = stall or Stall()
    return await asyncio.get_running_loop().create_server(lambda: _Protocol(shared), host, port)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)

    async def serve() -> None:
        server = await start_trivial_server(port=args.port)
        print(server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()

    asyncio.run(serve())


if __name__ == "__main__":
    main()

"""`python -m compare.local.lambda_emu --port 8001 --app-dir chalice_app --handler app.app`.

`--websocket` adds API Gateway's WebSocket API (`/ws`, `/api/@connections/{id}`) in front of
the functions app.ws_connect, app.ws_message and app.ws_disconnect; `--stream-handler
app.order_book_stream` feeds the SQLite order book's changes to that function as its DynamoDB
stream would. Each handler is its own function with its own environments.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING

from aiohttp import web

from compare.local.envelopes import Envelopes
from compare.local.lambda_emu.events import RouteTable
from compare.local.lambda_emu.functions import (
    STREAM_HANDLER,
    WS_HANDLERS,
    function_environment,
    function_name,
    log_path,
    public_host,
)
from compare.local.lambda_emu.runtime import IDLE_REAP_S, FunctionConfig, Pool
from compare.local.lambda_emu.server import Front
from compare.local.lambda_emu.websocket import WebSocketApi, WebSocketFunctions, WebSocketLimits

if TYPE_CHECKING:
    from compare.local.lambda_emu.stream_poller import StreamPoller

# Run in the app directory, in a separate interpreter, so the front never imports the app itself.
_ROUTES_PROBE = """
import importlib, json, sys
module, _, attr = sys.argv[1].rpartition(".")
handler = getattr(importlib.import_module(module), attr)
routes = getattr(handler, "routes", None)
print(json.dumps({p: sorted(m) for p, m in routes.items()} if routes else None))
"""


def discover_routes(app_dir: Path, handler: str, python: str = sys.executable) -> RouteTable | None:
    """The handler's resource templates if it is a Chalice app (`app.routes`), else None (proxy+)."""
    out = subprocess.run(
        [python, "-c", _ROUTES_PROBE, handler],
        cwd=app_dir,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if out.returncode != 0 or not out.stdout.strip():
        # The handler does not even import: every invocation will hit its init error, as on Lambda.
        print(
            f"routes: cannot import {handler} ({out.stderr.strip().splitlines()[-1:]}); using /{{proxy+}}",
            file=sys.stderr,
        )
        return None
    mapping = json.loads(out.stdout.strip().splitlines()[-1])
    return RouteTable.from_mapping(mapping) if mapping else None


class Functions:
    """One pool per handler, each with its own log file; closed together."""

    def __init__(self, args: argparse.Namespace, envelopes: Envelopes, extra_env: dict[str, str]) -> None:
        self.args = args
        self.envelopes = envelopes
        self.extra_env = extra_env
        self.pools: dict[str, Pool] = {}
        self.logs: list[IO[str]] = []

    def pool(self, handler: str, concurrency: int) -> Pool:
        args = self.args
        config = FunctionConfig(
            app_dir=Path(args.app_dir).resolve(),
            handler=handler,
            memory_mb=args.memory_mb,
            timeout_s=args.timeout,
            idle_reap_s=args.idle_reap_s if args.idle_reap_s > 0 else None,
            extra_env=self.extra_env,
            name=function_name(handler, args.handler),
        )
        log = None
        if args.log:
            log = open(log_path(Path(args.log), handler, args.handler), "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the server
            self.logs.append(log)
        pool = Pool(config, concurrency=concurrency, log=log, envelopes=self.envelopes)
        self.pools[handler] = pool
        return pool

    async def close(self) -> None:
        await asyncio.gather(*(pool.close() for pool in self.pools.values()))
        for log in self.logs:
            log.close()


def stream_poller(functions: Functions, handler: str) -> StreamPoller | None:
    """The poller over the order book the environments open, if that is a SQLite file."""
    # Imported here: only streaming needs the café package in the emulator's own process.
    from cafe.live.stream import records_from_feed
    from compare.local.lambda_emu.stream_poller import StreamPoller, sqlite_feed

    env = {**os.environ, **functions.extra_env}
    found = sqlite_feed(env, Path(functions.args.app_dir).resolve())
    if found is None:
        print(f"stream: {handler} not fed (the store is not SQLite: no shared change feed)", file=sys.stderr)
        return None
    store, config = found
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    to_records = functools.partial(records_from_feed, table=config.table, region=region)
    return StreamPoller(functions.pool(handler, functions.args.concurrency), store, to_records=to_records)


async def serve(args: argparse.Namespace) -> None:
    app_dir = Path(args.app_dir).resolve()
    host = public_host(args.host)
    extra_env = function_environment(host, args.port, websocket=args.websocket, base=os.environ)
    # The front (API Gateway's part) runs outside the envelopes; each environment inside its own.
    envelopes = Envelopes.open("none" if args.envelope == "none" else None)
    envelopes.sweep_stale()
    functions = Functions(args, envelopes, extra_env)
    pool = functions.pool(args.handler, args.concurrency)
    websocket: WebSocketApi | None = None
    if args.websocket:
        concurrency = args.ws_concurrency or args.concurrency
        connect, message, disconnect = (functions.pool(handler, concurrency) for handler in WS_HANDLERS)
        limits = WebSocketLimits(idle_timeout_s=args.ws_idle_timeout, max_duration_s=args.ws_max_duration)
        websocket = WebSocketApi(WebSocketFunctions(connect, message, disconnect), limits)
    stream = stream_poller(functions, args.stream_handler) if args.stream_handler else None
    front = Front(
        pool,
        discover_routes(app_dir, args.handler),
        functions=functions.pools,
        websocket=websocket,
        stream=stream,
    )
    runner = web.AppRunner(front.app(), access_log=None, handle_signals=False)
    await runner.setup()
    if stream is not None:
        await stream.start()  # the cursor is the latest sequence now (LATEST)
    await web.TCPSite(runner, args.host, args.port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    extras = "".join(
        (
            f", WebSocket API on ws://{host}:{args.port}/ws" if websocket is not None else "",
            f", stream → {args.stream_handler}" if stream is not None else "",
        )
    )
    print(
        f"lambda emulator on http://{args.host}:{args.port} (concurrency {args.concurrency}, "
        f"{args.memory_mb} MB = {pool.config.limits().cpu_vcpu:.2f} vCPU per environment, "
        f"envelopes: {envelopes.mechanism}{extras})",
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        if websocket is not None:
            await websocket.close_all()  # each connection's $disconnect runs before the pools stop
        if stream is not None:
            await stream.close()
        await runner.cleanup()
        await functions.close()
        envelopes.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m compare.local.lambda_emu", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--app-dir", default="chalice_app")
    parser.add_argument("--handler", default="app.app", help="module.attribute, as Lambda's handler setting")
    parser.add_argument("--concurrency", type=int, default=32, help="most environments at once (then 429)")
    parser.add_argument("--memory-mb", type=int, default=512)
    parser.add_argument("--timeout", type=float, default=30.0, help="function timeout, seconds")
    parser.add_argument(
        "--idle-reap-s",
        type=float,
        default=IDLE_REAP_S,
        help="stop an environment idle this long (AWS does not document it; 0 = never)",
    )
    parser.add_argument(
        "--envelope",
        choices=("auto", "none"),
        default="auto",
        help="auto: each environment in a cgroup of memory/1,769 vCPU and its memory; none: uncapped",
    )
    parser.add_argument(
        "--log",
        help="append the HTTP function's runtime output and REPORT lines here (a local 'log group'); "
        "the other functions write beside it (NAME.ws_connect.log, ...)",
    )
    parser.add_argument(
        "--websocket",
        action="store_true",
        help=f"API Gateway's WebSocket API at /ws and /api/@connections/{{id}} → {', '.join(WS_HANDLERS)}",
    )
    parser.add_argument(
        "--ws-concurrency",
        type=int,
        default=0,
        help="most environments of each WebSocket function (default --concurrency)",
    )
    parser.add_argument(
        "--ws-idle-timeout",
        type=float,
        default=600.0,
        help="close a connection idle this long (API Gateway: 10 min)",
    )
    parser.add_argument(
        "--ws-max-duration",
        type=float,
        default=7200.0,
        help="close a connection open this long (API Gateway: 2 h)",
    )
    parser.add_argument(
        "--stream-handler",
        metavar="HANDLER",
        help="feed the SQLite order book's changes to this function as its DynamoDB stream would "
        f"(e.g. {STREAM_HANDLER})",
    )
    asyncio.run(serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()

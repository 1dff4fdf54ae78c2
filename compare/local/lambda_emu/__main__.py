"""`python -m compare.local.lambda_emu --port 8001 --app-dir chalice_app --handler app.app`."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path

from aiohttp import web

from compare.local.envelopes import Envelopes
from compare.local.lambda_emu.events import RouteTable
from compare.local.lambda_emu.runtime import IDLE_REAP_S, FunctionConfig, Pool
from compare.local.lambda_emu.server import Front

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


async def serve(args: argparse.Namespace) -> None:
    app_dir = Path(args.app_dir).resolve()
    config = FunctionConfig(
        app_dir=app_dir,
        handler=args.handler,
        memory_mb=args.memory_mb,
        timeout_s=args.timeout,
        idle_reap_s=args.idle_reap_s if args.idle_reap_s > 0 else None,
    )
    log = open(args.log, "a", encoding="utf-8") if args.log else None  # noqa: SIM115 - lives as long as the server
    # The front (API Gateway's part) runs outside the envelopes; each environment inside its own.
    envelopes = Envelopes.open("none" if args.envelope == "none" else None)
    envelopes.sweep_stale()
    pool = Pool(config, concurrency=args.concurrency, log=log, envelopes=envelopes)
    front = Front(pool, discover_routes(app_dir, args.handler))
    runner = web.AppRunner(front.app(), access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, args.host, args.port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(
        f"lambda emulator on http://{args.host}:{args.port} (concurrency {args.concurrency}, "
        f"{args.memory_mb} MB = {config.limits().cpu_vcpu:.2f} vCPU per environment, "
        f"envelopes: {envelopes.mechanism})",
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        await pool.close()
        envelopes.close()
        if log is not None:
            log.close()


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
    parser.add_argument("--log", help="append runtime output and REPORT lines here (a local 'log group')")
    asyncio.run(serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()

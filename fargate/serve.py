"""The container's entry command (``python -m fargate.serve``), also what ``make run-fargate`` runs.

Reads ``PORT`` (the task definition's container port), ``WEB_CONCURRENCY`` (worker
processes: one per vCPU of the task) and ``HOST``.
"""

from __future__ import annotations

import os

import uvicorn


def serve(app: str) -> None:
    """Serve an ASGI app given as "module:attribute" the way the container does."""
    uvicorn.run(
        app,
        host=os.environ.get("HOST", "0.0.0.0"),  # noqa: S104 - a container listens on its task ENI
        port=int(os.environ.get("PORT", "8080")),
        workers=int(os.environ.get("WEB_CONCURRENCY", "1")),
        # The C parser and loop (requirements/runtime.txt); CAFE_HTTP_PARSER=h11 runs the
        # pure-Python parser instead, for comparison (bench/throughput.py).
        http=os.environ.get("CAFE_HTTP_PARSER", "httptools"),
        loop="uvloop",
        # The shared API reads X-Forwarded-For/-Proto itself, from trusted hops only
        # (cafe.api.origin, CAFE_TRUSTED_PROXIES), the same way on every runtime.
        proxy_headers=False,
        access_log=False,
        server_header=False,  # no "server: uvicorn": nothing to gain from naming the software
        timeout_graceful_shutdown=20,
    )


def main() -> None:
    serve("fargate.app:app")


if __name__ == "__main__":
    main()

"""The gunicorn worker class of the EC2 service: uvicorn's event loop inside gunicorn's workers.

gunicorn still runs the instance (one master, one worker process per vCPU, the systemd unit and
``make run-ec2`` unchanged); each worker now serves ``ec2.app:application`` as ASGI on one
uvloop event loop instead of a pool of four threads. An open live stream is then a coroutine
waiting on a queue (a few KiB), not a thread held for as long as the customer watches: 2
gthread workers × 4 threads would have been taken by eight subscribers and left no thread for
orders. Store calls that wait on the network (DynamoDB) still run in a thread pool, off the
loop; SQLite calls run inline (microseconds). docs/live.md has the choice and its cost.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

with warnings.catch_warnings():
    # uvicorn points at the separate uvicorn-worker package; the class it ships is the same
    # code and avoids one more dependency.
    warnings.simplefilter("ignore", DeprecationWarning)
    from uvicorn.workers import UvicornWorker


class CafeWorker(UvicornWorker):
    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        "loop": "uvloop",
        "http": "httptools",
        # ec2.app.application answers WSGI and ASGI alike: tell uvicorn which one it speaks.
        "interface": "asgi3",
        "lifespan": "off",
        # The shared API reads X-Forwarded-For/-Proto itself, from trusted hops only.
        "proxy_headers": False,
        "server_header": False,
        "access_log": False,
        # Open live streams would hold a graceful shutdown for its whole timeout: end them sooner.
        "timeout_graceful_shutdown": 5,
    }

"""ASGI adapter: the Fargate container's app, served by uvicorn (``fargate/serve.py``).

The adapter itself is shared with the EC2 instance's uvicorn workers (``cafe.live.asgi``): it
converts the HTTP connection into a ``cafe.api.Request`` and back, and serves the live stream
(server-sent events, one feed reader per process) from the container itself.
"""

from __future__ import annotations

from cafe.api import build_api
from cafe.live.asgi import application

cafe_api = build_api("fargate")
# Looked up on every request, so tests (and bench/inprocess.py) may point it at another café.
app = application(lambda: cafe_api)

"""Live updates by push: the change feed read once per process and fanned out to subscribers
(``cafe.live.hub``), served as server-sent events by the ASGI runtimes (``cafe.live.asgi``).

The contract is ``GET /live`` and ``GET /asyncapi.json`` (``cafe.api``); docs/live.md says how
each runtime pushes, or why it does not.
"""

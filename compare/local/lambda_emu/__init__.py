"""A local Lambda: API-Gateway-style front, per-environment Runtime API, real `awslambdaric`.

Each execution environment is one `python -m awslambdaric <handler>` process polling its own
Runtime API endpoint and handling one request at a time, inside its own CPU and memory envelope,
frozen between invocations and reaped after an idle time. A request that finds no idle environment
starts a new one (a cold start, its init on the request path), up to a concurrency limit, beyond
which the front answers as API Gateway's REST API answers a Lambda throttle (500, "Internal server
error"). This is an emulation on one machine, not a measurement of AWS.

Beside the HTTP function it can run API Gateway's WebSocket API (websocket.py: $connect, $default
and $disconnect functions; connections_api.py: the @connections management API) and a DynamoDB
stream's event source mapping over the SQLite order book's change feed (stream_poller.py), each
function with its own pool of environments (functions.py).
"""

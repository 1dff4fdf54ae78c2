"""A local Lambda: API-Gateway-style front, per-environment Runtime API, real `awslambdaric`.

Each execution environment is one `python -m awslambdaric <handler>` process polling its own
Runtime API endpoint and handling one request at a time. A request that finds no idle environment
starts a new one (a cold start), up to a concurrency limit, beyond which the front answers 429 as
Lambda throttling does. This is an emulation on one machine, not a measurement of AWS.
"""

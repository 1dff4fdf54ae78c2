"""gunicorn settings for the EC2 service; the systemd unit and ``make run-ec2`` both run
``gunicorn -c ec2/gunicorn.conf.py ec2.app:application``."""

import os

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8080')}"  # noqa: S104 - behind its SG
# One worker process per vCPU (the course's "size the instance type to the load"). Each worker
# is an event loop (uvicorn's, ec2/worker.py) rather than gthread's four threads: a live
# subscriber's open stream then costs a coroutine, not a thread, so many can watch while orders
# are served (docs/live.md); the store's network waits still overlap in a thread pool.
workers = int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 1)
worker_class = "ec2.worker.CafeWorker"
timeout = 30
graceful_timeout = 20
keepalive = 5
accesslog = None
errorlog = "-"
# The shared API reads X-Forwarded-For/-Proto itself, from trusted hops only (cafe.api.origin,
# CAFE_TRUSTED_PROXIES): gunicorn must hand it the connection's own scheme.
secure_scheme_headers: dict[str, str] = {}

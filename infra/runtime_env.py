"""Environment every deployed runtime gets besides its own settings (one place for all three).

The service name matches ``cafe.observability.SERVICE``: "cafe" would clash with the logger
Chalice names after its app. Tracing spans (``CAFE_TRACING``) stay off: they need the X-Ray SDK,
which the lean Lambda zip does not ship; X-Ray still traces each request at the Lambda and API
Gateway level.
"""

from __future__ import annotations

from typing import Final

POWERTOOLS: Final = {
    "POWERTOOLS_SERVICE_NAME": "cafe-compute",
    "POWERTOOLS_METRICS_NAMESPACE": "CafeCompute",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}

"""Environment every deployed runtime gets besides its own settings (one place for all three).

The service name matches ``cafe.observability.SERVICE``: "cafe" would clash with the logger
Chalice names after its app. Tracing spans (``CAFE_TRACING``) stay off: they need the X-Ray SDK,
which the lean Lambda zip does not ship; X-Ray still traces each request at the Lambda and API
Gateway level.

``CAFE_STAFF_REQUIRE_HTTPS``: "1" makes a deployed runtime refuse staff calls that reached it over
plain HTTP (judged by the ``X-Forwarded-Proto`` the ALB or API Gateway sets), so the staff token
never crosses the internet in clear. Every template sets it to "1" unless its parameter
``AllowStaffOverHttp`` is "true" (an explicit operator choice, e.g. a throwaway single EC2 instance
with no TLS). The Lambda template sets "1" always: API Gateway REST endpoints are HTTPS-only.
Local runs leave it unset.
"""

from __future__ import annotations

from typing import Final

from infra.cfn import Json, ref

POWERTOOLS: Final = {
    "POWERTOOLS_SERVICE_NAME": "cafe-compute",
    "POWERTOOLS_METRICS_NAMESPACE": "CafeCompute",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}

STAFF_REQUIRE_HTTPS: Final = "CAFE_STAFF_REQUIRE_HTTPS"
STAFF_OVER_HTTP_PARAMETER: Final = "AllowStaffOverHttp"
STAFF_MAPPING: Final = "StaffRequireHttps"


def staff_over_http_parameter() -> Json:
    return {
        STAFF_OVER_HTTP_PARAMETER: {
            "Type": "String",
            "Default": "false",
            "AllowedValues": ["true", "false"],
            "Description": "true lets staff calls (which carry the staff token) arrive over plain "
            f"HTTP; false (the default) sets {STAFF_REQUIRE_HTTPS}=1 so the runtime refuses them "
            "unless X-Forwarded-Proto is https.",
        }
    }


def staff_mapping() -> Json:
    """``AllowStaffOverHttp`` → the env var's value."""
    return {STAFF_MAPPING: {"true": {"Value": "0"}, "false": {"Value": "1"}}}


def staff_require_https() -> Json:
    """The env var's value: "1" unless the operator allowed staff calls over HTTP."""
    return {"Fn::FindInMap": [STAFF_MAPPING, ref(STAFF_OVER_HTTP_PARAMETER), "Value"]}

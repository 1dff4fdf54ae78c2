"""Security headers, unknown methods, the staff lockout and HTTPS-only staff calls, on all
three runtimes in-process (chalice / ASGI / WSGI)."""

from __future__ import annotations

import json

import pytest

from cafe.api.guard import StaffGuard
from cafe.api.http import Request
from cafe.api.origin import Origin, parse_networks

STAFF_CALL = ("GET", "/orders?status=PLACED")


def test_security_headers_on_pages_assets_api_and_errors(cafe):
    for method, path in [
        ("GET", "/"),
        ("GET", "/barista"),
        ("GET", "/static/app.css"),
        ("GET", "/menu"),
        ("GET", "/orders/nope"),
        ("POST", "/orders"),
        ("GET", "/openapi.json"),
    ]:
        response = cafe.call(method, path)
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, path
        assert "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"


def test_cache_control_staff_data_never_stored_assets_revalidated(cafe):
    staff = cafe.call(*STAFF_CALL, staff=True)
    assert staff.status == 200 and staff.headers["cache-control"] == "no-store"
    asset = cafe.call("GET", "/static/app.css")
    assert asset.headers["cache-control"] == "no-cache" and asset.headers["etag"]
    again = cafe.call("GET", "/static/app.css", headers={"If-None-Match": asset.headers["etag"]})
    assert again.status == 304


@pytest.mark.parametrize("method", ["DELETE", "PUT", "OPTIONS", "TRACE"])
def test_unknown_method_is_405_with_allow_and_the_error_json(cafe, method):
    if method == "TRACE" and cafe.runtime == "lambda":
        pytest.skip("API Gateway answers TRACE itself; the Lambda never sees it (README)")
    response = cafe.call(method, "/menu")
    assert response.status == 405
    assert response.headers["allow"] == "GET"
    assert response.json()["error"]["code"] == "method_not_allowed"
    response = cafe.call(method, "/orders/some-id")
    assert response.status == 405 and response.headers["allow"] == "GET"


def _as(client: str) -> dict[str, str]:
    return {"X-Forwarded-For": client}


def test_wrong_tokens_lock_out_that_client_only(cafe, capsys, caplog):
    guard = cafe.client.module.cafe_api.guard
    attacker, colleague = "203.0.113.7", "203.0.113.8"
    for _ in range(guard.max_failures):
        assert cafe.call(*STAFF_CALL, staff="guess", headers=_as(attacker)).status == 403
    refused = cafe.call(*STAFF_CALL, staff="guess", headers=_as(attacker))
    assert refused.status == 429
    assert refused.json()["error"]["code"] == "staff_locked_out"
    assert 0 < int(refused.headers["retry-after"]) <= guard.lockout_seconds
    # Locked out means every staff call, even with the right token ...
    assert cafe.call(*STAFF_CALL, staff=True, headers=_as(attacker)).status == 429
    # ... but only from that client, and customers are never affected.
    assert cafe.call(*STAFF_CALL, staff=True, headers=_as(colleague)).status == 200
    assert cafe.call("GET", "/menu", headers=_as(attacker)).status == 200
    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert any(line.get("StaffLockouts") == [1.0] for line in lines)
    refusals = [r for r in caplog.records if r.getMessage() == "staff call refused: client locked out"]
    assert len(refusals) == 2 and refusals[0].client == attacker
    assert sum(len(line.get("StaffLockoutRefusals", [])) for line in lines) == 2


def test_a_missing_token_is_not_a_guess(cafe):
    guard = cafe.client.module.cafe_api.guard
    for _ in range(guard.max_failures + 2):
        assert cafe.call(*STAFF_CALL, headers=_as("203.0.113.9")).status == 401
    assert cafe.call(*STAFF_CALL, staff=True, headers=_as("203.0.113.9")).status == 200


def test_staff_over_plain_http_refused_when_https_is_required(cafe, monkeypatch):
    monkeypatch.setattr(cafe.client.module.cafe_api, "staff_require_https", True)
    plain = cafe.call(*STAFF_CALL, staff=True)
    assert plain.status == 403 and plain.json()["error"]["code"] == "https_required"
    # Behind the load balancer (a trusted hop) its X-Forwarded-Proto says how the client came.
    via_alb = cafe.call(*STAFF_CALL, staff=True, headers={"X-Forwarded-Proto": "https"})
    assert via_alb.status == 200
    assert cafe.call(*STAFF_CALL, staff=True, headers={"X-Forwarded-Proto": "http"}).status == 403
    assert cafe.call("GET", "/menu").status == 200  # customers are not staff


# -- the pieces, with a clock we control ------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_guard_window_lockout_expiry_and_success_reset():
    clock = Clock()
    guard = StaffGuard(max_failures=3, window_seconds=60, lockout_seconds=120, clock=clock)
    assert not guard.failed("a") and not guard.failed("a")
    clock.now += 61  # the first two fell out of the window
    assert not guard.failed("a") and not guard.failed("a")
    assert guard.failed("a")  # third within 60 s
    with pytest.raises(Exception) as refused:
        guard.check("a")
    assert refused.value.retry_after == 120
    clock.now += 100
    with pytest.raises(Exception) as refused:
        guard.check("a")
    assert refused.value.retry_after == 20
    clock.now += 21
    guard.check("a")  # lockout over
    guard.check("b")
    guard.failed("b")
    guard.failed("b")
    guard.succeeded("b")  # the right token clears the count
    assert not guard.failed("b")


def test_guard_memory_is_bounded():
    guard = StaffGuard(max_failures=1, max_clients=100)
    for index in range(1000):
        guard.failed(f"client-{index}")
    assert len(guard._locked_until) == 100  # the most recent ones


def _request(
    peer: str, forwarded: str | None = None, proto: str | None = None, scheme: str = "http"
) -> Request:
    headers = {}
    if forwarded is not None:
        headers["x-forwarded-for"] = forwarded
    if proto is not None:
        headers["x-forwarded-proto"] = proto
    return Request("GET", "/", headers, peer=peer, scheme=scheme)


def test_client_is_the_right_most_untrusted_hop():
    origin = Origin(parse_networks("10.0.0.0/16,127.0.0.1"))
    # Behind the ALB (10.0.x.x): it appended what it saw; what the client wrote is to the left.
    assert origin.client_address(_request("10.0.1.5", "1.2.3.4, 198.51.100.20")) == "198.51.100.20"
    assert origin.client_address(_request("10.0.1.5", "198.51.100.20, 10.0.2.2")) == "198.51.100.20"
    # A direct hit (or API Gateway's sourceIp) is the client; its headers are not believed.
    assert origin.client_address(_request("198.51.100.30", "1.2.3.4")) == "198.51.100.30"
    assert origin.client_address(_request("127.0.0.1")) == "127.0.0.1"
    assert origin.client_address(_request("")) == "unknown"


def test_scheme_from_trusted_hops_only():
    origin = Origin(parse_networks("10.0.0.0/16"))
    assert origin.scheme(_request("10.0.1.5", proto="https")) == "https"
    assert origin.scheme(_request("10.0.1.5")) == "http"
    assert origin.scheme(_request("198.51.100.30", proto="https")) == "http"  # a client's claim
    assert origin.scheme(_request("198.51.100.30", scheme="https")) == "https"  # API Gateway


def test_default_trusts_loopback_and_private_ranges():
    origin = Origin.from_env({})
    assert origin.is_trusted("127.0.0.1") and origin.is_trusted("10.1.2.3") and origin.is_trusted("::1")
    assert not origin.is_trusted("203.0.113.1") and not origin.is_trusted("not-an-ip")
    assert not Origin.from_env({"CAFE_TRUSTED_PROXIES": "10.0.0.0/16"}).is_trusted("127.0.0.1")

"""One census scenario rerun in the real browser, checked against the checked-in census.

The customer who keeps the tab visible (≈ 6.5 minutes of page time, a few seconds of wall time on
Playwright's clock), against a café that cannot push (the same fixed requests per order, the same
tracking and health rates, the same polling interval as compare/cost/census.json says) and against
one that pushes (the same requests, one stream held from placement to pickup, the same messages on
it). A difference means the pages (or the browser) changed since the census was taken: rerun
`make census`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from compare.census import CENSUS_PATH
from compare.census.run import chromium
from compare.census.scenarios import PHONE, Driver, customer
from compare.census.server import POLLING, PUSH, local_cafe
from compare.census.tab import Tab, check_server_agrees
from compare.census.tally import CUSTOMER_FIXED, CUSTOMER_TRACKING, CUSTOMER_VISIBLE, MINUTE_MS, interval_s

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def customers() -> Iterator[dict[str, Any]]:
    """The visible customer against a café that cannot push, then one that does (one browser:
    Playwright's sync API runs one instance per thread)."""
    outcomes = {}
    with chromium() as browser:
        for mode in (POLLING, PUSH):
            with local_cafe(mode) as cafe:
                driver = Driver(cafe)
                tab = Tab(browser, cafe.url, cafe.log, PHONE)
                try:
                    outcomes[mode] = customer(tab, driver, "customer-visible", hide=False)
                finally:
                    tab.close()
                    driver.close()
    yield outcomes


@pytest.fixture(scope="module")
def visible_customer(customers: dict[str, Any]) -> Any:
    return customers[POLLING].recording


@pytest.fixture(scope="module")
def pushed_customer(customers: dict[str, Any]) -> Any:
    return customers[PUSH]


def test_a_visible_customer_makes_the_requests_the_census_says(visible_customer: Any) -> None:
    census = json.loads(CENSUS_PATH.read_text())
    rec = visible_customer
    check_server_agrees(rec)
    fixed: dict[str, int] = {}
    periodic: dict[str, int] = {}
    for s in rec.seen:
        if s.phase in CUSTOMER_FIXED:
            fixed[s.route] = fixed.get(s.route, 0) + 1
        elif s.phase in CUSTOMER_VISIBLE:
            periodic[s.route] = periodic.get(s.route, 0) + 1
    assert fixed == census["customer"]["per_order"], "run `make census`"
    minutes = rec.phase_ms["visible"] / MINUTE_MS
    rates = {route: n / minutes for route, n in periodic.items()}
    expected = census["customer"]["per_visible_minute"]
    assert set(rates) == set(expected), "run `make census`"
    for route, rate in rates.items():
        assert rate == pytest.approx(expected[route], rel=0.05), f"{route}: run `make census`"
    measured = interval_s([rec], "GET /orders/{order_id}", CUSTOMER_VISIBLE)
    assert measured == census["intervals_s"]["tracking_visible"]
    assert not [s for s in rec.seen if s.phase == "tail" and "/orders/" in s.route], (
        "still tracking after pickup"
    )


def test_a_pushed_customer_holds_one_stream_and_hears_each_change_once(pushed_customer: Any) -> None:
    census = json.loads(CENSUS_PATH.read_text())["push"]
    rec = pushed_customer.recording
    check_server_agrees(rec)
    fixed: dict[str, int] = {}
    for s in rec.seen:
        if s.phase in CUSTOMER_FIXED:
            fixed[s.route] = fixed.get(s.route, 0) + 1
    assert fixed == census["customer"]["per_order"], "run `make census`"
    assert not [s for s in rec.seen if s.phase in CUSTOMER_TRACKING and "/orders/" in s.route], (
        "the page polled while it followed the stream"
    )
    stream = census["streams"]["customer"]
    [held] = rec.held
    assert held.closed_ms is not None  # it stopped following at pickup
    messages = [p for p in rec.pushed if p.phase in CUSTOMER_TRACKING]
    assert len(messages) == stream["messages_per_order"] == pushed_customer.changes - 1
    assert {p.channel for p in rec.pushed} == {stream["channel"]}

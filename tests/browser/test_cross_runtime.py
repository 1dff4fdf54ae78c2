"""The issue's scenario across the three real runtime processes (one SQLite file behind them):
order on the Lambda endpoint's page, work it on the EC2 endpoint's barista page, watch it on the
Fargate endpoint's tracking page and on the pickup board."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.pages import (
    add_item,
    barista_card,
    fill_name,
    open_menu,
    screenshot,
    sign_in,
    tracked_order_id,
)

pytestmark = [pytest.mark.browser, pytest.mark.live]


def orders_named(base_url: str, token: str, customer: str) -> list[dict]:
    headers = {"Authorization": f"Bearer {token}"}
    found: list[dict] = []
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
        for status in ("PLACED", "PREPARING", "READY", "COMPLETED", "CANCELLED"):
            # The newest of a long queue (other live tests leave hundreds) is past the default 100.
            answer = client.get("/orders", params={"status": status, "limit": 500}).json()["orders"]
            assert len(answer) < 500, "queue too long to see every order"
            found += answer
    return [o for o in found if o["customer"] == customer]


@pytest.fixture
def open_store(live_cafe) -> Iterator[None]:
    """The live café is shared with other tests: make sure it takes orders, then put it back."""
    headers = {"Authorization": f"Bearer {live_cafe.staff_token}"}
    with httpx.Client(base_url=live_cafe.urls["ec2"], headers=headers, timeout=10) as client:
        before = client.get("/store").json()
        cap = max(before["max_waiting"], before.get("waiting", 0) + 5)
        assert client.put("/store", json={"open": True, "max_waiting": cap}).status_code == 200
        yield
        client.put("/store", json={"open": before["open"], "max_waiting": before["max_waiting"]})


@pytest.mark.usefixtures("open_store")
def test_order_on_lambda_work_on_ec2_track_on_fargate(live_cafe, new_page: Callable[..., Page]) -> None:
    urls, token = live_cafe.urls, live_cafe.staff_token
    customer = "Cross Runtime Choi"

    # 1. The customer orders on the Lambda endpoint's page, double-clicking "Place order".
    customer_page = new_page(PHONE)
    open_menu(customer_page, urls["lambda"])
    expect(customer_page.locator("#runtime")).to_have_text("Lambda (Chalice)")
    add_item(customer_page, "Vanilla Latte", choices=("Iced", "Soy milk"))
    add_item(customer_page, "Butter Croissant", choices=("Warmed",))
    fill_name(customer_page, customer)
    customer_page.get_by_role("button", name="Place order").dblclick()
    order_id = tracked_order_id(customer_page)
    expect(customer_page.locator("#t-number")).to_have_text(re.compile(r"^\d+$"))
    number = int(customer_page.locator("#t-number").inner_text())
    expect(customer_page.locator("#t-status")).to_contain_text("Placed")
    # The footer times the last call and hides the order id (the customer's credential): a
    # poll of the order, or the page's push subscription (Lambda: API Gateway's WebSocket).
    last_call = re.compile(
        r"^(GET /orders/\{id\} · (200|304)|WS subscribe · 101|GET /events\?order_id=\{id\} · 200) · \d+ ms$"
    )
    expect(customer_page.locator("#last-call")).to_have_text(last_call)
    expect(customer_page.locator("#last-call")).not_to_contain_text(order_id)
    screenshot(customer_page, "scenario-1-customer-lambda")
    mine = orders_named(urls["ec2"], token, customer)
    assert [o["id"] for o in mine] == [order_id], "a double-click made exactly one order"
    assert mine[0]["total"] == 5500 + 500 + 3800  # soy +500; iced and warmed are free
    expect(customer_page.locator("#t-total")).to_have_text("₩9,800")

    # 2. The barista starts it and makes it ready on the EC2 endpoint's page.
    barista = new_page(DESKTOP)
    sign_in(barista, urls["ec2"], "/barista", token)
    expect(barista.locator("#runtime")).to_have_text("EC2 (instance)")
    card = barista_card(barista, number)
    expect(card).to_contain_text(customer)
    card.get_by_role("button", name="Start").click()
    expect(barista.locator(f'#q-PREPARING .order[data-number="{number}"]')).to_be_visible()
    barista_card(barista, number).get_by_role("button", name="Ready").click()
    expect(barista.locator(f'#q-READY .order[data-number="{number}"]')).to_be_visible()
    screenshot(barista, "scenario-2-barista-ec2", full_page=False)  # the queue may be long

    # 3. The tracking page on the Fargate endpoint shows READY.
    tracker = new_page(PHONE)
    tracker.goto(f"{urls['fargate']}/#order={order_id}")
    expect(tracker.locator("#t-number")).to_have_text(str(number))
    status = tracker.get_by_role("status").filter(has_text="Ready")
    expect(status).to_contain_text("Collect it at the counter")
    expect(tracker.locator("#runtime")).to_have_text("Fargate (container)")
    screenshot(tracker, "scenario-3-tracking-fargate")
    # ... and the Lambda page that placed it caught up (by push, or by polling without it).
    expect(customer_page.locator("#t-status")).to_contain_text("Ready", timeout=15_000)

    # 4. The pickup board shows the number as ready.
    board = new_page(DESKTOP)
    board.goto(f"{urls['fargate']}/board")  # a public screen: no staff token
    ready = board.get_by_role("region", name="Ready for pickup")
    expect(ready.get_by_role("listitem").filter(has_text=re.compile(rf"^{number}$"))).to_be_visible()
    screenshot(board, "scenario-4-board")

    # Hand it over, so the shared café has nothing left waiting.
    barista_card(barista, number).get_by_role("button", name="Picked up").click()
    expect(barista_card(barista, number)).to_have_count(0)
    expect(ready.get_by_role("listitem").filter(has_text=re.compile(rf"^{number}$"))).to_have_count(0)
    expect(tracker.locator("#t-status")).to_contain_text("Picked up", timeout=15_000)

"""The pages by push: on a runtime that pushes (the Fargate container's ASGI app, in a real
uvicorn server), a staff change reaches the tracking page and the board within a second with no
polling meanwhile; with the stream blocked the pages fall back to polling and still update."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, Request, Route, expect

from tests.browser.conftest import PageCafe
from tests.push.conftest import AMERICANO, Served

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def pushing_cafe() -> Iterator[PageCafe]:
    import fargate.app
    from cafe.api import build_api
    from cafe.config import Config

    token = secrets.token_urlsafe(16)
    original = fargate.app.cafe_api
    fargate.app.cafe_api = build_api("fargate", Config(store="memory", staff_token=token))
    served = Served(fargate.app.app)
    try:
        yield PageCafe(url=served.url, staff_token=token)
    finally:
        served.stop()
        fargate.app.cafe_api = original


def place(cafe: PageCafe) -> dict:
    answer = httpx.post(cafe.url + "/orders", json=AMERICANO, timeout=10)
    assert answer.status_code == 201
    return dict(answer.json())


def advance(cafe: PageCafe, order_id: str, status: str) -> None:
    with cafe.staff() as staff:
        assert staff.post(f"/orders/{order_id}/status", json={"status": status}).status_code == 200


def test_tracking_page_and_board_update_by_push_without_polling(
    phone: Page, new_page, pushing_cafe: PageCafe
) -> None:
    order = place(pushing_cafe)
    polls: list[str] = []
    order_path = re.compile(rf"/orders/{re.escape(order['id'])}$")

    def seen(request: Request) -> None:
        if request.method == "GET" and (order_path.search(request.url) or request.url.endswith("/pickup")):
            polls.append(request.url)

    board = new_page()
    board.goto(pushing_cafe.url + "/board")
    phone.goto(f"{pushing_cafe.url}/#order={order['id']}")
    expect(phone.locator("#t-number")).to_have_text(str(order["number"]))
    for page in (phone, board):
        expect(page.locator("#live-mode")).to_have_attribute("data-mode", "live")
        expect(page.locator("#live-mode")).to_have_text("live")
        page.on("request", seen)

    started = time.monotonic()
    advance(pushing_cafe, order["id"], "PREPARING")
    expect(phone.locator("#t-status")).to_contain_text("Preparing", timeout=1000)
    expect(board.locator("#b-preparing")).to_contain_text(str(order["number"]), timeout=1000)
    assert time.monotonic() - started < 1.5
    advance(pushing_cafe, order["id"], "READY")
    expect(phone.locator("#t-status")).to_contain_text("Ready", timeout=1000)
    expect(board.locator("#b-ready")).to_contain_text(str(order["number"]), timeout=1000)
    phone.wait_for_timeout(3500)  # longer than either page's polling interval
    assert polls == [], f"the pages polled while the stream was up: {polls}"


def test_pages_fall_back_to_polling_when_the_stream_is_blocked(phone: Page, pushing_cafe: PageCafe) -> None:
    def refuse(route: Route) -> None:
        route.abort()

    phone.route(re.compile(r"/events\?"), refuse)
    order = place(pushing_cafe)
    phone.goto(f"{pushing_cafe.url}/#order={order['id']}")
    expect(phone.locator("#t-number")).to_have_text(str(order["number"]))
    expect(phone.locator("#live-mode")).to_have_attribute("data-mode", "polling")
    expect(phone.locator("#live-mode")).to_have_text("refreshing every few seconds")
    advance(pushing_cafe, order["id"], "PREPARING")
    expect(phone.locator("#t-status")).to_contain_text("Preparing", timeout=6000)

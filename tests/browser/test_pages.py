"""Each page on its own, in a real Chromium, against the real app on a private in-memory store."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.browser.conftest import DESKTOP, PageCafe, _context, watch
from tests.browser.pages import (
    add_item,
    barista_card,
    fill_name,
    open_menu,
    screenshot,
    sign_in,
    tracked_order_id,
)

pytestmark = pytest.mark.browser
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def orders_of(cafe: PageCafe, customer: str) -> list[dict]:
    with cafe.staff() as staff:
        found = staff.get("/orders", params={"status": "PLACED,CANCELLED", "limit": 500}).json()["orders"]
    return [o for o in found if o["customer"] == customer]


def test_order_estimate_then_server_total_then_cancel(phone: Page, page_cafe: PageCafe) -> None:
    open_menu(phone, page_cafe.url)
    screenshot(phone, "customer-menu-phone", full_page=False)
    add_item(phone, "Butter Croissant")
    add_item(phone, "Caffè Latte", choices=("Oat milk", "Large"), quantity=2)
    # (5000 + 600 oat + 500 large) × 2 + 3800: an estimate, and labelled as one.
    expect(phone.locator("#estimate")).to_have_text("≈ ₩16,000")
    expect(phone.get_by_text("The café computes the final total when you order.")).to_be_visible()
    # On a phone the basket sits below the menu; a bar leads to it and hides once it is on screen.
    phone.get_by_role("button", name="View basket").click()
    expect(phone.get_by_role("heading", name="Basket")).to_be_focused()
    expect(phone.get_by_role("button", name="View basket")).to_be_hidden()
    fill_name(phone, "Mina")
    screenshot(phone, "customer-basket-phone", scroll_to="#place")
    phone.get_by_role("button", name="Place order").click()

    order_id = tracked_order_id(phone)
    with page_cafe.staff() as staff:
        order = staff.get(f"/orders/{order_id}").json()
    expect(phone.locator("#t-number")).to_have_text(str(order["number"]))
    expect(phone.locator("#t-total")).to_have_text(f"₩{order['total']:,}")
    expect(phone.get_by_role("status").filter(has_text="Placed")).to_be_visible()
    expect(phone.locator('#t-steps [aria-current="step"]')).to_have_text("Placed")
    screenshot(phone, "customer-tracking-phone")

    phone.get_by_role("button", name="Cancel order").click()
    phone.get_by_role("button", name="Yes, cancel it").click()
    expect(phone.locator("#t-status")).to_contain_text("Cancelled")
    expect(phone.get_by_role("button", name="Cancel order")).to_be_hidden()
    assert orders_of(page_cafe, "Mina")[0]["status"] == "CANCELLED"

    # The order is remembered in this browser, with its last known status.
    phone.get_by_role("link", name="Back to the menu").click()
    recent = phone.get_by_role("region", name="Your recent orders")
    expect(recent.get_by_role("link", name=re.compile(rf"#{order['number']}\s*Cancelled"))).to_be_visible()
    phone.reload()
    expect(recent.get_by_role("link").first).to_contain_text(f"#{order['number']}")


def test_double_click_and_lost_response_make_one_order(phone: Page, page_cafe: PageCafe) -> None:
    open_menu(phone, page_cafe.url)
    add_item(phone, "Americano")
    fill_name(phone, "Double Dan")
    # The first answer is lost on the way back (the server did place the order) ...
    lost = {"count": 0}

    def lose_first_answer(route: Route) -> None:
        if route.request.method == "POST" and lost["count"] == 0:
            lost["count"] += 1
            route.fetch()
            route.abort("connectionreset")
        else:
            route.continue_()

    keys: list[str] = []
    phone.on(
        "request",
        lambda r: keys.append(r.headers.get("idempotency-key", "")) if r.method == "POST" else None,
    )
    phone.route(re.compile(r".*/orders$"), lose_first_answer)
    phone.get_by_role("button", name="Place order").dblclick()
    expect(phone.get_by_role("alert")).to_contain_text("Retrying this basket will not order twice")
    assert len(orders_of(page_cafe, "Double Dan")) == 1
    # ... so the customer tries again: same basket, same key, the same order comes back.
    phone.get_by_role("button", name="Place order").dblclick()
    order_id = tracked_order_id(phone)
    orders = orders_of(page_cafe, "Double Dan")
    assert [o["id"] for o in orders] == [order_id]
    assert len(keys) == 2, "the double-clicks sent one request per attempt"
    assert keys[0] == keys[1] and UUID4.match(keys[0]), keys


def test_idempotency_key_without_secure_context_api(phone: Page, page_cafe: PageCafe) -> None:
    """Plain-HTTP origins (an EC2 instance's IP) have no crypto.randomUUID; the key must still be a UUID."""
    phone.add_init_script("delete Crypto.prototype.randomUUID")
    open_menu(phone, page_cafe.url)
    assert phone.evaluate("typeof crypto.randomUUID") == "undefined"
    add_item(phone, "Espresso")
    fill_name(phone, "Plain Park")
    with phone.expect_request(lambda r: r.method == "POST") as placed:
        phone.get_by_role("button", name="Place order").click()
    assert UUID4.match(placed.value.headers["idempotency-key"])
    tracked_order_id(phone)
    assert len(orders_of(page_cafe, "Plain Park")) == 1


def test_sold_out_items_are_greyed_and_cannot_be_added(desktop: Page, page_cafe: PageCafe) -> None:
    with page_cafe.staff() as staff:
        assert staff.patch("/menu/cheesecake", json={"available": False}).status_code == 200
    try:
        open_menu(desktop, page_cafe.url)
        item = desktop.locator('.item[data-item="cheesecake"]')
        expect(item).to_have_class(re.compile(r"\bsoldout\b"))
        expect(item.get_by_role("button")).to_be_disabled()
        expect(item).to_contain_text("Sold out")
        expect(desktop.get_by_role("button", name="Add New York Cheesecake")).to_have_count(0)
        add_item(desktop, "Espresso", choices=("2 shots",))
        screenshot(desktop, "customer-menu-desktop")
    finally:
        with page_cafe.staff() as staff:
            staff.patch("/menu/cheesecake", json={"available": True})


def test_korean_and_english_switch_and_stick(phone: Page, page_cafe: PageCafe) -> None:
    open_menu(phone, page_cafe.url)
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    phone.get_by_role("button", name="한국어로 보기").click()
    expect(phone.locator("html")).to_have_attribute("lang", "ko")
    expect(phone.get_by_role("heading", name="메뉴")).to_be_visible()
    expect(phone.get_by_role("button", name="아메리카노 담기")).to_be_visible()
    phone.get_by_role("button", name="카페 라떼 담기").click()
    expect(phone.get_by_role("dialog").get_by_role("radio", name=re.compile("^오트 밀크"))).to_be_visible()
    screenshot(phone, "customer-options-phone-ko", full_page=False)
    phone.keyboard.press("Escape")
    phone.reload()
    expect(phone.get_by_role("heading", name="메뉴")).to_be_visible()
    expect(phone.locator("#runtime")).to_have_text("로컬")
    phone.get_by_role("button", name="Switch to English").click()
    expect(phone.get_by_role("heading", name="Menu")).to_be_visible()


def test_keyboard_only_order(desktop: Page, page_cafe: PageCafe) -> None:
    open_menu(desktop, page_cafe.url)
    desktop.keyboard.press("Tab")
    expect(desktop.get_by_role("link", name="Skip to content")).to_be_focused()
    desktop.get_by_role("button", name="Add Cold Brew").focus()
    desktop.keyboard.press("Enter")
    dialog = desktop.get_by_role("dialog")
    expect(dialog).to_be_visible()
    # Arrow keys move within a radio group; Enter in a form submits it (Add to basket).
    dialog.get_by_role("radio", name="Regular").focus()
    desktop.keyboard.press("ArrowRight")
    expect(dialog.get_by_role("radio", name=re.compile("^Large"))).to_be_checked()
    add = dialog.get_by_role("button", name=re.compile("Add to basket"))
    expect(add).to_have_text("Add to basket · ₩5,500")
    add.focus()
    desktop.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    desktop.get_by_label("Your name").focus()
    desktop.keyboard.type("Kim")
    desktop.keyboard.press("Enter")
    tracked_order_id(desktop)
    expect(desktop.locator("#t-total")).to_have_text("₩5,500")
    expect(desktop.locator("#t-status")).to_have_attribute("aria-live", "polite")


def test_offline_banner_and_closed_store(phone: Page, page_cafe: PageCafe) -> None:
    open_menu(phone, page_cafe.url)
    phone.context.set_offline(True)
    expect(phone.get_by_text("You are offline")).to_be_visible()
    phone.context.set_offline(False)
    expect(phone.get_by_text("You are offline")).to_be_hidden()

    with page_cafe.staff() as staff:
        staff.put("/store", json={"open": False, "max_waiting": 20})
    try:
        phone.reload()
        expect(phone.get_by_text("We are not taking orders right now.").first).to_be_visible()
        add_item(phone, "Financier")
        fill_name(phone, "Late Lee")
        phone.get_by_role("button", name="Place order").click()
        expect(phone.get_by_role("alert")).to_have_text("We are not taking orders right now.")
        assert orders_of(page_cafe, "Late Lee") == []
    finally:
        with page_cafe.staff() as staff:
            staff.put("/store", json={"open": True, "max_waiting": 20})


def test_barista_queue_store_and_sold_out(desktop: Page, page_cafe: PageCafe) -> None:
    with page_cafe.staff() as staff:
        placed = [
            staff.post(
                "/orders",
                json={"customer": name, "items": [{"item_id": "americano", "quantity": 1, "options": {}}]},
            ).json()
            for name in ("Ari", "Bo")
        ]
    desktop.goto(page_cafe.url + "/barista")
    desktop.get_by_label("Staff token").fill("not-the-token")
    desktop.get_by_role("button", name="Sign in").click()
    expect(desktop.get_by_role("alert")).to_have_text("That staff token is not valid.")
    sign_in(desktop, page_cafe.url, "/barista", page_cafe.staff_token)

    new = desktop.locator("#q-PLACED .order")
    numbers = [int(n) for n in new.evaluate_all("els => els.map(e => e.dataset.number)")]
    assert numbers == sorted(numbers), "queue is oldest first"
    first = barista_card(desktop, placed[0]["number"])
    expect(first).to_contain_text("Ari")
    expect(first.locator(".order-wait")).to_have_text("just now")
    first.get_by_role("button", name="Start").click()
    moved = desktop.locator(f'#q-PREPARING .order[data-number="{placed[0]["number"]}"]')
    expect(moved).to_be_visible()
    expect(moved.get_by_role("button", name="Ready")).to_be_focused()  # keyboard flow continues
    moved.get_by_role("button", name="Ready").click()
    expect(desktop.locator(f'#q-READY .order[data-number="{placed[0]["number"]}"]')).to_be_visible()
    barista_card(desktop, placed[1]["number"]).get_by_role("button", name="Cancel").click()
    expect(barista_card(desktop, placed[1]["number"])).to_have_count(0)

    desktop.get_by_label("Most orders waiting").fill("7")
    desktop.get_by_role("button", name="Save").click()
    expect(desktop.locator("#store-waiting")).to_contain_text("cap 7")
    desktop.get_by_role("button", name="Stop taking orders").click()
    expect(desktop.locator("#store-pill")).to_have_text("Closed for orders")
    # Controls disabled during their call keep the keyboard user's place afterwards.
    expect(desktop.get_by_role("button", name="Open for orders")).to_be_focused()
    desktop.locator("#avail-panel summary").click()
    desktop.get_by_role("checkbox", name="Plain Bagel").uncheck()
    expect(desktop.locator("#avail-panel .badge")).to_have_count(1)
    expect(desktop.get_by_role("checkbox", name="Plain Bagel")).to_be_focused()
    screenshot(desktop, "barista-desktop")
    with page_cafe.staff() as staff:
        assert staff.get("/store").json()["open"] is False
        assert staff.get("/store").json()["max_waiting"] == 7
        menu = staff.get("/menu").json()["items"]
        assert next(i for i in menu if i["id"] == "plain-bagel")["available"] is False
    desktop.get_by_role("button", name="Open for orders").click()
    desktop.get_by_role("checkbox", name="Plain Bagel").check()
    expect(desktop.locator("#store-pill")).to_have_text("Taking orders")
    with page_cafe.staff() as staff:
        staff.put("/store", json={"open": True, "max_waiting": 20})
        staff.post(f"/orders/{placed[0]['id']}/status", json={"status": "COMPLETED"})


def test_a_busy_store_is_retried_and_a_change_whose_answer_was_lost_is_not_refused(
    desktop: Page, page_cafe: PageCafe
) -> None:
    with page_cafe.staff() as staff:
        order = staff.post(
            "/orders",
            json={"customer": "Busy Bae", "items": [{"item_id": "americano", "quantity": 1, "options": {}}]},
        ).json()
    sign_in(desktop, page_cafe.url, "/barista", page_cafe.staff_token)
    sent: list[str] = []

    def apply_then_answer_busy(route: Route) -> None:
        # The change reaches the store, then the answer is a 503 (the store failed after writing).
        sent.append(route.request.headers.get("if-match", ""))
        if len(sent) == 1:
            route.fetch()
            body = '{"error":{"code":"unavailable","message":"busy","details":{}}}'
            route.fulfill(
                status=503, headers={"Retry-After": "1"}, content_type="application/json", body=body
            )
        else:
            route.continue_()

    desktop.route(re.compile(r".*/orders/[^/]+/status$"), apply_then_answer_busy)
    barista_card(desktop, order["number"]).get_by_role("button", name="Start").click()
    expect(desktop.locator("#busy")).to_contain_text("Retrying in 1 s")
    expect(desktop.locator(f'#q-PREPARING .order[data-number="{order["number"]}"]')).to_be_visible()
    expect(desktop.locator("#busy")).to_be_hidden()
    expect(desktop.get_by_role("alert")).to_have_count(0)  # no "someone changed this order"
    assert sent == [f'"{order["id"]}.1"'] * 2, sent
    with page_cafe.staff() as staff:
        stored = staff.get(f"/orders/{order['id']}").json()
        staff.post(f"/orders/{order['id']}/status", json={"status": "CANCELLED"})
    assert [h["status"] for h in stored["history"]] == ["PLACED", "PREPARING"]


def test_board_shows_preparing_and_ready(phone: Page, page_cafe: PageCafe) -> None:
    with page_cafe.staff() as staff:
        body = {"customer": "Board", "items": [{"item_id": "espresso", "quantity": 1, "options": {}}]}
        one = staff.post("/orders", json=body).json()
        two = staff.post("/orders", json=body).json()
        staff.post(f"/orders/{one['id']}/status", json={"status": "PREPARING"})
        staff.post(f"/orders/{two['id']}/status", json={"status": "PREPARING"})
        staff.post(f"/orders/{two['id']}/status", json={"status": "READY"})
    phone.goto(f"{page_cafe.url}/board")  # a public screen: no staff token
    expect(phone.get_by_label("Staff token")).to_have_count(0)
    preparing = phone.get_by_role("region", name="Preparing")
    ready = phone.get_by_role("region", name="Ready for pickup")
    expect(
        preparing.get_by_role("listitem").filter(has_text=re.compile(rf"^{one['number']}$"))
    ).to_be_visible()
    expect(ready.get_by_role("listitem").filter(has_text=re.compile(rf"^{two['number']}$"))).to_be_visible()
    # It refreshes by itself: make the first one ready and watch it move.
    with page_cafe.staff() as staff:
        staff.post(f"/orders/{one['id']}/status", json={"status": "READY"})
    expect(ready.get_by_role("listitem").filter(has_text=re.compile(rf"^{one['number']}$"))).to_be_visible()
    expect(phone.get_by_role("status").filter(has_text=f"Order {one['number']}: Ready")).to_be_attached()
    screenshot(phone, "board-phone")
    with page_cafe.staff() as staff:
        for order in (one, two):
            staff.post(f"/orders/{order['id']}/status", json={"status": "COMPLETED"})


def test_pages_satisfy_the_csp_and_a_violation_is_caught(browser: Browser, page_cafe: PageCafe) -> None:
    context = _context(browser, DESKTOP, "en")
    page = context.new_page()
    errors: list[str] = []
    watch(page, errors)
    try:
        for path in ("/", "/barista", "/board"):
            response = page.goto(f"{page_cafe.url}{path}")
            assert response is not None
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
            assert response.headers["x-content-type-options"] == "nosniff"
            page.wait_for_load_state("networkidle")
        assert errors == []
        # The watch works: an inline script, which the policy forbids, is reported and not run.
        page.evaluate(
            "() => { const s = document.createElement('script');"
            " s.textContent = 'window.ranInline = true'; document.body.append(s); }"
        )
        page.wait_for_function("() => true")  # one more turn of the page's event loop
        page.wait_for_timeout(200)
        assert any("script-src" in error for error in errors), errors
        assert page.evaluate("() => window.ranInline === undefined")
    finally:
        context.close()

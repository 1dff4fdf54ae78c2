"""What a person does on the café's pages, in Playwright terms (shared by the browser tests).

Locators go by role and accessible name where a person would: that doubles as a check that the
controls are labelled for screen readers.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


def screenshot(page: Page, name: str, *, full_page: bool = True, scroll_to: str | None = None) -> Path:
    """Save a screenshot as a test artifact.

    Full-page shots start scrolled to the top so sticky bars sit where a person sees them;
    ``scroll_to`` (a selector) instead shows the viewport with that element scrolled into view.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if scroll_to:
        page.locator(scroll_to).scroll_into_view_if_needed()
        page.wait_for_timeout(300)  # let the smooth scroll and observers settle
        full_page = False
    else:
        page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=full_page)
    return path


def open_menu(page: Page, base_url: str) -> None:
    page.goto(base_url + "/")
    expect(page.locator("#menu .item").first).to_be_visible()


def add_item(page: Page, name: str, choices: tuple[str, ...] = (), quantity: int = 1) -> None:
    """Open an item's options, pick choices by their label, set the quantity, add it."""
    page.get_by_role("button", name=f"Add {name}", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    for choice in choices:
        # A choice's name is its label plus any surcharge ("Oat milk +₩600").
        dialog.get_by_role("radio", name=re.compile(rf"^{re.escape(choice)}( \+|$)")).check()
    for _ in range(quantity - 1):
        dialog.get_by_role("button", name="One more").click()
    dialog.get_by_role("button", name=re.compile(r"^Add to basket")).click()
    expect(dialog).to_be_hidden()


def fill_name(page: Page, customer: str) -> None:
    page.get_by_label("Your name").fill(customer)


def tracked_order_id(page: Page) -> str:
    """The order id from the tracking view's address (#order=<id>)."""
    expect(page.locator("#track-view")).to_be_visible()
    match = re.search(r"#order=([^&]+)", page.url)
    assert match, page.url
    return match.group(1)


def sign_in(page: Page, base_url: str, path: str, token: str) -> None:
    page.goto(base_url + path)
    page.get_by_label("Staff token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#staff")).to_be_visible()


def barista_card(page: Page, number: int):  # -> Locator
    return page.locator(f'.order[data-number="{number}"]')

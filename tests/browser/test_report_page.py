"""The comparison report in a real browser: the verdict on top, every chart loaded from the page
itself (no request leaves it), no sideways scroll on a phone, and a printable page. Screenshots of
the top of the report are kept with the others (test-artifacts/screenshots/)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import screenshot
from tests.compare.sample import render_sample


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    _, files = render_sample(tmp_path_factory.mktemp("report"))
    yield files["html"]


def _open(page: Page, report: Path) -> list[str]:
    """Open the report; returns the URLs of every request the page makes beyond itself."""
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
    page.goto(report.as_uri())
    expect(page.get_by_role("heading", name="Verdict", level=2)).to_be_visible()
    return outside


def _images_loaded(page: Page) -> bool:
    return bool(page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)"))


def test_the_report_opens_on_its_verdict_with_every_chart_loaded(desktop: Page, report: Path) -> None:
    outside = _open(desktop, report)
    verdict = desktop.locator("h2#verdict")
    assert verdict.bounding_box() is not None and verdict.bounding_box()["y"] < 200  # type: ignore[index]
    expect(desktop.locator("h2#verdict + p strong").first).to_contain_text("Lambda")
    assert desktop.locator("img").count() == 5 and _images_loaded(desktop)
    assert all(desktop.locator("img").nth(i).get_attribute("alt") for i in range(5))
    desktop.get_by_role("link", name="Cost (modeled)").first.click()
    expect(desktop.locator("h2#cost-modeled")).to_be_in_viewport()
    assert outside == []
    desktop.evaluate("window.scrollTo(0, 0)")
    screenshot(desktop, "report-top-desktop", full_page=False)


def test_the_report_reads_on_a_phone_without_sideways_scrolling(phone: Page, report: Path) -> None:
    _open(phone, report)
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    widest = phone.evaluate("Math.max(...[...document.images].map(i => i.getBoundingClientRect().width))")
    assert widest <= phone.viewport_size["width"]  # type: ignore[index]
    screenshot(phone, "report-top-phone", full_page=False)


def test_the_report_prints(desktop: Page, report: Path) -> None:
    _open(desktop, report)
    desktop.emulate_media(media="print")
    overflow = desktop.evaluate("getComputedStyle(document.querySelector('.table-wrap')).overflowX")
    assert overflow == "visible"  # printed tables are not cut off behind a scroll bar
    assert desktop.pdf(format="A4").startswith(b"%PDF")

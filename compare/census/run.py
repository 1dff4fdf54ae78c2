"""Run every scenario in one headless Chromium against one local café."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, sync_playwright

from compare.census import scenarios
from compare.census.scenarios import DESKTOP, PHONE, Driver, Outcome
from compare.census.server import LocalCafe
from compare.census.tab import Tab, check_server_agrees
from compare.census.tally import Runs

CHROMIUM = os.environ.get("CAFE_CHROMIUM", "/usr/bin/chromium")
# The browser tests' launch arguments (tests/browser/conftest.py; tests/census checks they agree).
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        raise SystemExit(f"no Chromium at {CHROMIUM}: apt-get install -y chromium (see .ci/run)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _checked(outcome: Outcome) -> Outcome:
    check_server_agrees(outcome.recording)
    return outcome


def run_all(browser: Browser, cafe: LocalCafe) -> Runs:
    """The four scenarios; the hidden-tab customer is the same person ordering again (same tab)."""
    driver = Driver(cafe)
    try:
        tab = Tab(browser, cafe.url, cafe.log, PHONE)
        try:
            visible = _checked(scenarios.customer(tab, driver, "customer-visible", hide=False))
            hidden = _checked(scenarios.customer(tab, driver, "customer-hidden", hide=True))
        finally:
            tab.close()
        tab = Tab(browser, cafe.url, cafe.log, DESKTOP)
        try:
            barista = _checked(scenarios.barista(tab, driver, cafe.staff_token))
        finally:
            tab.close()
        tab = Tab(browser, cafe.url, cafe.log, DESKTOP)
        try:
            board = _checked(scenarios.board(tab, driver))
        finally:
            tab.close()
    finally:
        driver.close()
    return Runs(customers=(visible, hidden), barista=barista, board=board)

"""Browser fixtures: Debian's Chromium driven by Playwright, and a café to point it at.

Two cafés:
- ``page_cafe``: the real WSGI app (``ec2.app.application``) on an in-memory store, served from a
  thread of this process. Fresh per test module, fast, and free to close the store or mark items
  sold out without disturbing anyone. Used for the per-page checks and screenshots.
- ``live_cafe`` (tests/conftest.py): the three real runtime processes on one SQLite file. Used
  for the cross-runtime scenario the issue asks for.
- ``push_cafe`` (test_live_pages.py): the same three processes on a SQLite file of that module's
  own, for the pages by push (timed, and counting every request the pages make).
"""

from __future__ import annotations

import secrets
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

# The same Chromium, started the same way, as the census that measures the pages (one list).
from compare.census.run import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """The browser makes many requests; keep pytest's output readable."""


@dataclass(frozen=True)
class PageCafe:
    url: str
    staff_token: str

    def staff(self) -> httpx.Client:
        """An HTTP client with the staff token, for setting up and checking state."""
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.staff_token}"}, timeout=10
        )


@pytest.fixture(scope="module")
def page_cafe() -> Iterator[PageCafe]:
    import ec2.app
    from cafe.api import build_api
    from cafe.config import Config

    token = secrets.token_urlsafe(16)
    api = build_api("local", Config(store="memory", staff_token=token))
    original = ec2.app.cafe_api
    ec2.app.cafe_api = api  # the real WSGI adapter, pointed at a private in-memory café
    server = make_server("127.0.0.1", 0, ec2.app.application, _ThreadingWSGIServer, _QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield PageCafe(url=f"http://127.0.0.1:{server.server_port}", staff_token=token)
    finally:
        server.shutdown()
        server.server_close()
        ec2.app.cafe_api = original


# Package scope, not session: Playwright's sync API keeps an asyncio loop running in this
# thread while it is open, and later test packages (the comparison tool) use asyncio.run.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium (see .ci/run)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


# The standard event, not a browser's console wording: every CSP violation on a page is logged
# with this prefix, and the checked pages fail the test on any of them.
CSP_WATCH = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`);
});
"""


def _context(browser: Browser, viewport: dict[str, int], lang: str) -> BrowserContext:
    context = browser.new_context(
        viewport=viewport,
        locale="ko-KR" if lang == "ko" else "en-US",
        timezone_id="Asia/Seoul",
        service_workers="block",
    )
    context.set_default_timeout(10_000)
    context.add_init_script(CSP_WATCH)
    return context


def watch(page: Page, errors: list[str]) -> None:
    """Collect the page's JavaScript errors and CSP violations into ``errors``."""
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console", lambda message: errors.append(message.text) if "CSP violation" in message.text else None
    )


def _checked_page(browser: Browser, viewport: dict[str, int]) -> Iterator[Page]:
    """An English page that fails the test on a JavaScript error or a CSP violation."""
    context = _context(browser, viewport, "en")
    page = context.new_page()
    errors: list[str] = []
    watch(page, errors)
    yield page
    context.close()
    assert not errors, f"JavaScript errors or CSP violations on the page: {errors}"


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A phone-sized page in English (the language tests switch explicitly when they need Korean)."""
    yield from _checked_page(browser, PHONE)


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    yield from _checked_page(browser, DESKTOP)


@pytest.fixture
def new_page(browser: Browser) -> Iterator[object]:
    """Factory for extra pages (one per runtime in the scenario), each in its own context."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def make(viewport: dict[str, int] = PHONE, lang: str = "en") -> Page:
        context = _context(browser, viewport, lang)
        contexts.append(context)
        page = context.new_page()
        watch(page, errors)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors or CSP violations on the page: {errors}"

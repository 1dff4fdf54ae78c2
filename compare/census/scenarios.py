"""What the census watches: a customer (tab visible; tab hidden for part of the wait), a barista
working the queue, a pickup board. Times are page time (Playwright's clock), in milliseconds.

The driver's own calls (placing orders for the barista and the board, moving orders along for the
customer and the board) carry ``server.DRIVER_AGENT`` and are not counted: only the pages are.
The same scenarios run against a café that pushes and one that does not (the pages' fallback).
Each scenario names its phases; ``tally`` turns them into the census:

- customer: ``load``, ``browse``, ``place`` (one order's fixed requests), ``visible`` and
  ``hidden`` + ``wake`` (periodic, per minute of waiting), ``tail`` (after pickup: checks that
  tracking stopped; not in any rate);
- barista: ``open`` (page and sign-in), ``periodic`` (per open hour), ``work`` (per order worked);
- board: ``open``, ``periodic``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from compare.census.server import LocalCafe
from compare.census.tab import CensusError, Recording, Tab

MINUTE = 60_000
# The customer: looks at the menu for 20 s, then orders; the barista starts it after 1 min, it is
# ready after 4 min and picked up after 6 min. In the hidden scenario the tab is hidden from 30 s
# after placing until 3.5 min (the customer checks back before the drink is ready).
BROWSE_MS = 20_000
PREPARING_AFTER_MS = 1 * MINUTE
READY_AFTER_MS = 4 * MINUTE
COMPLETED_AFTER_MS = 6 * MINUTE
HIDE_AFTER_MS = 30_000
SHOW_AFTER_MS = 210_000
TAIL_MS = 10_000
# The screens: open for 10 minutes each; an order arrives every 1.5 minutes from 30 s on.
SCREEN_MS = 10 * MINUTE
ARRIVALS_MS = (30_000, 120_000, 210_000, 300_000, 390_000)
# The barista starts an order 30 s after it arrives, has it ready 1 min later, hands it over 1 min
# after that; on the board the driver does the same through the API.
START_AFTER_MS = 30_000
READY_AFTER_START_MS = 60_000
HANDED_AFTER_READY_MS = 60_000

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}

# Routes the pages can call that no scenario exercises, and why they are left out of the census
# (tests/census checks that every route the pages call is either counted or listed here).
UNEXERCISED = {
    "POST /orders/{order_id}/cancel": "a customer cancelling while PLACED: a rare action, one request",
    "PUT /store": "the barista opening or closing the café, or setting the queue cap: a few a day",
    "PATCH /menu/{item_id}": "the barista marking an item sold out: a few a day",
}

Action = Callable[[], None]


@dataclass(frozen=True)
class Outcome:
    recording: Recording
    orders: int  # orders the scenario's page placed, tracked or worked
    changes: int  # events the order book's change feed gained meanwhile (each one a push)


class Driver:
    """The script's hands outside the pages: a customer's and a barista's HTTP clients."""

    def __init__(self, cafe: LocalCafe) -> None:
        self.customer = cafe.driver(staff=False)
        self.staff = cafe.driver(staff=True)
        self.settle = cafe.settle  # push: wait until every change is on the pages' streams
        self.sequence = cafe.sequence
        items = self.customer.get("/menu").raise_for_status().json()["items"]
        self.item_id = next(str(i["id"]) for i in items if i["available"])

    def place(self, customer: str) -> dict[str, object]:
        body = {"customer": customer, "items": [{"item_id": self.item_id, "quantity": 1, "options": {}}]}
        answer = self.customer.post("/orders", json=body, headers={"Idempotency-Key": secrets.token_hex(16)})
        return dict(answer.raise_for_status().json())

    def move(self, order_id: str, status: str) -> None:
        self.staff.post(f"/orders/{order_id}/status", json={"status": status}).raise_for_status()

    def close(self) -> None:
        self.customer.close()
        self.staff.close()


def _timeline(tab: Tab, driver: Driver, events: list[tuple[int, Action]]) -> None:
    """Each action at its page time; a change it makes is on every stream before time moves on
    (the server pushes in real time while the page clock waits), so its messages count in the
    phase it was made in."""
    for at_ms, action in sorted(events, key=lambda e: e[0]):
        tab.run_to(at_ms)
        action()
        driver.settle()
        tab.quiet()


# ---- the customer ------------------------------------------------------------------------------


def customer(tab: Tab, driver: Driver, name: str, *, hide: bool) -> Outcome:
    """Open the customer page, order one drink, track it to pickup (hiding the tab if ``hide``)."""
    first = driver.sequence()
    tab.begin(name, "load")
    tab.open("/", "#menu .item")
    tab.phase("browse")
    tab.run(BROWSE_MS)
    tab.phase("place")
    page = tab.page
    page.locator("#menu .item:not(.soldout) button.add").first.click()
    page.locator("#opt-add").click()
    page.locator("#customer").fill("Census")
    page.locator("#place").click()
    page.locator('#t-status[data-status="PLACED"]').wait_for(state="attached")
    tab.quiet()
    order_id = page.url.split("#order=", 1)[1]
    placed = tab.at_ms
    tab.phase("visible")

    def hidden() -> None:
        tab.phase("hidden")
        tab.set_hidden(True)

    def shown() -> None:
        tab.phase("wake")  # the tick the page makes at once when it is shown again
        tab.set_hidden(False)
        tab.phase("visible")

    events: list[tuple[int, Action]] = [
        (placed + PREPARING_AFTER_MS, lambda: driver.move(order_id, "PREPARING")),
        (placed + READY_AFTER_MS, lambda: driver.move(order_id, "READY")),
        (placed + COMPLETED_AFTER_MS, lambda: driver.move(order_id, "COMPLETED")),
    ]
    if hide:
        events += [(placed + HIDE_AFTER_MS, hidden), (placed + SHOW_AFTER_MS, shown)]
    _timeline(tab, driver, events)
    tab.run_until("document.getElementById('t-status').dataset.status === 'COMPLETED'", limit_ms=MINUTE)
    tab.phase("tail")
    tab.run(TAIL_MS)
    outcome = Outcome(tab.finish(), orders=1, changes=driver.sequence() - first)
    tracked_after = [s for s in outcome.recording.seen if s.phase == "tail" and "/orders/" in s.route]
    if tracked_after:
        raise CensusError(f"{name}: the page kept tracking after pickup: {tracked_after}")
    still_held = [h for h in outcome.recording.held if h.closed_ms is None]
    if still_held:
        raise CensusError(f"{name}: the page still followed the order by push after pickup: {still_held}")
    return outcome


# ---- the barista -------------------------------------------------------------------------------


def barista(tab: Tab, driver: Driver, token: str) -> Outcome:
    """Sign in on the barista page and work the queue for SCREEN_MS: every order start to end."""
    first = driver.sequence()
    tab.begin("barista", "open")
    tab.open("/barista", "#token")
    tab.page.locator("#token").fill(token)
    tab.page.locator("#signin button[type=submit]").click()
    tab.page.locator("#staff").wait_for(state="visible")
    tab.quiet()
    tab.phase("periodic")
    numbers: list[int] = []

    def arrive() -> None:
        numbers.append(int(str(driver.place(f"Guest {len(numbers) + 1}")["number"])))

    def press(index: int, to: str) -> Action:
        def act() -> None:
            tab.phase("work")
            tab.page.locator(f'.order[data-number="{numbers[index]}"] button[data-to="{to}"]').click()
            tab.quiet()
            driver.settle()
            tab.quiet()
            tab.phase("periodic")

        return act

    _timeline(tab, driver, _order_lives(arrive, press))
    tab.run_to(SCREEN_MS)
    return Outcome(tab.finish(), orders=len(numbers), changes=driver.sequence() - first)


def _order_lives(arrive: Action, step: Callable[[int, str], Action]) -> list[tuple[int, Action]]:
    """Each order of ARRIVALS_MS arriving, then moved PREPARING → READY → COMPLETED on time."""
    events: list[tuple[int, Action]] = []
    for index, at in enumerate(ARRIVALS_MS):
        started = at + START_AFTER_MS
        ready = started + READY_AFTER_START_MS
        events += [
            (at, arrive),
            (started, step(index, "PREPARING")),
            (ready, step(index, "READY")),
            (ready + HANDED_AFTER_READY_MS, step(index, "COMPLETED")),
        ]
    return events


# ---- the pickup board --------------------------------------------------------------------------


def board(tab: Tab, driver: Driver) -> Outcome:
    """Keep the pickup board open for SCREEN_MS while orders arrive and move along."""
    first = driver.sequence()
    tab.begin("board", "open")
    tab.open("/board", "#b-ready li")
    tab.phase("periodic")
    ids: list[str] = []

    def arrive() -> None:
        ids.append(str(driver.place(f"Guest {len(ids) + 1}")["id"]))

    def move(index: int, status: str) -> Action:
        return lambda: driver.move(ids[index], status)

    _timeline(tab, driver, _order_lives(arrive, move))
    tab.run_to(SCREEN_MS)
    return Outcome(tab.finish(), orders=len(ids), changes=driver.sequence() - first)

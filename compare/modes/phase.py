"""One runtime's modes phase: polling, then push, then push with many subscribers held.

Each part places its own tracked orders (one tracker per order), runs the barista for the window
and waits a grace period for the last changes to be seen; the ledger then gives the notice delay.
Server-side figures come from the runtime's process tree (``compare.probes.cpu``): its RSS before
and after the extra subscribers connect, and its CPU during the window, per change.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from compare.load.http import Http
from compare.modes import clients
from compare.modes.clients import BARISTA_PATHS, Counter, Live
from compare.modes.ledger import Ledger, Notice
from compare.probes.cpu import tree_cpu_s, tree_rss_mb
from compare.results import NoticeMode

CENSUS = Path(__file__).resolve().parents[1] / "cost" / "census.json"
# After the last change, how long trackers have to see it before it counts as missed (push).
PUSH_GRACE_S = 3.0


def page_intervals(path: Path = CENSUS) -> dict[str, float]:
    """The pages' polling intervals as the census measured them (tracking, board, barista)."""
    intervals = json.loads(path.read_text(encoding="utf-8"))["intervals_s"]
    return {name: float(intervals[name]) for name in ("tracking_visible", "board", "barista")}


@dataclass(frozen=True)
class ModesConfig:
    """The phase's sizes: trackers (one order each), the barista's change rate, the window, and the
    subscribers held in the last part."""

    trackers: int = 20
    change_rate: float = 4.0
    window_s: float = 10.0
    subscribers: int = 1000


@dataclass(frozen=True)
class Server:
    """The runtime under test: its URL, its process tree (None remotely), the staff token and an
    order to place."""

    url: str
    pid: int | None
    staff_token: str
    order_body: dict[str, Any]
    # Where the connections are held: the whole process tree (a server's workers), or its root
    # alone (the local Lambda: the emulator's front plays API Gateway; the function environments
    # it starts for $connect and the stream are not memory held per connection).
    connections_in_root: bool = False

    @property
    def staff(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.staff_token}"}


async def measure_modes(server: Server, config: ModesConfig) -> tuple[NoticeMode, NoticeMode | None]:
    """Polling, then push where the runtime offers it (None otherwise)."""
    async with Http(server.url, connections=64) as client:
        polling = await _polling(client, server, config)
        live = await clients.live_info(client)
        if live.transport not in ("sse", "websocket"):
            return polling, None
        push = await _push(client, server, config, live)
    return polling, push


async def _polling(client: Http, server: Server, config: ModesConfig) -> NoticeMode:
    every = page_intervals()
    ledger, counter, stop = Ledger(), Counter(), asyncio.Event()
    orders = await clients.place_orders(client, server.order_body, config.trackers)
    for tracker, order_id in enumerate(orders):
        ledger.follow(tracker, order_id)
    screens = [
        clients.poll_order(client, ledger, i, order_id, every["tracking_visible"], counter, stop)
        for i, order_id in enumerate(orders)
    ]
    screens.append(clients.poll_paths(client, ("/pickup",), {}, every["board"], counter, stop))
    screens.append(clients.poll_paths(client, BARISTA_PATHS, server.staff, every["barista"], counter, stop))
    tasks = [asyncio.ensure_future(screen) for screen in screens]
    try:
        start = time.monotonic()
        changes = await clients.barista(
            client, server.staff, ledger, orders, config.change_rate, config.window_s
        )
        await asyncio.sleep(max(every.values()) + 0.5)  # every tracker polls once more after the last
        elapsed = time.monotonic() - start
    finally:  # the pollers end with the phase, also when the barista failed
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    notice = ledger.notice()
    return _mode("polling", "poll", notice, changes, counter.sent / elapsed)


async def _push(client: Http, server: Server, config: ModesConfig, live: Live) -> NoticeMode:
    ledger = Ledger()
    async with Subscribers(server, live) as subscribers:
        orders = await clients.place_orders(client, server.order_body, config.trackers)
        trackers = await subscribers.open(_trackers(ledger, list(orders)))
        screens = await subscribers.open(SCREENS)
        sent_before = subscribers.counter.sent
        start = time.monotonic()
        changes = await clients.barista(
            client, server.staff, ledger, orders, config.change_rate, config.window_s
        )
        await asyncio.sleep(PUSH_GRACE_S)
        elapsed = time.monotonic() - start
        notice = ledger.notice()
        requests_per_s = (subscribers.counter.sent - sent_before) / elapsed
        held = trackers.held + screens.held
        # Many subscribers: the same trackers and screens plus idle ones on fresh orders' channels.
        at_1k = await _many(client, subscribers, server, config, held)
    refused = trackers.refused + screens.refused + at_1k.refused
    return _mode(
        "push",
        live.transport,
        notice,
        changes,
        requests_per_s,
        subscribers=held + at_1k.held,
        server_rss_mb_per_1k=at_1k.rss_mb_per_1k,
        cpu_ms_per_event=at_1k.cpu_ms_per_event,
        notice_ms_at_1k=at_1k.notice.notice_ms if at_1k.notice else None,
        refused=refused,
        note=at_1k.note,
    )


@dataclass
class Held:
    """Subscribers connected for a part: how many connected, how many were refused."""

    held: int
    refused: int


# Subscribers connect in waves of this many at once, as a café's screens and phones arrive over
# time rather than in one instant (a burst of 1,000 $connect calls would meet Lambda's concurrency
# limit here, which real arrivals spread over minutes do not); a refused one tries again once,
# as the pages do after their reconnect delay.
WAVE = 50
RETRY_AFTER_S = 1.0
# How long subscribers get to close their connections once the phase ends.
CLOSE_WAIT_S = 5.0

Subscription = tuple[dict[str, str], clients.OnMessage]
# The pickup board and the barista's queue, as the pages subscribe to them.
SCREENS: list[Subscription] = [({"channel": "board"}, clients.ignore), ({"channel": "queue"}, clients.ignore)]


def _trackers(ledger: Ledger, orders: list[str], count: int | None = None) -> list[Subscription]:
    """`count` tracking pages (one per order by default, else round robin over the orders), each
    noting in the ledger the versions it is pushed."""
    found: list[Subscription] = []
    for tracker in range(len(orders) if count is None else count):
        order_id = orders[tracker % len(orders)]
        ledger.follow(tracker, order_id)
        found.append(({"order_id": order_id}, clients.tracker_handler(ledger, tracker)))
    return found


class Subscribers:
    """Every subscription of a push phase: one client session, one stop signal, and every task
    started, all ended on leaving (also when the phase fails half-way)."""

    def __init__(self, server: Server, live: Live) -> None:
        # One connection per subscriber: no pool limit.
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        self.client = clients.PushClient(session, live, server.staff_token, Counter(), asyncio.Event())
        self.tasks: list[asyncio.Future[bool]] = []

    @property
    def counter(self) -> Counter:
        return self.client.counter

    async def __aenter__(self) -> Subscribers:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.client.stop.set()  # each subscriber closes its own connection on seeing it
        pending = [task for task in self.tasks if not task.done()]
        if pending:
            _, late = await asyncio.wait(pending, timeout=CLOSE_WAIT_S)
            for task in late:
                task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.client.session.close()

    async def open(self, subscriptions: list[Subscription]) -> Held:
        """Open the subscriptions wave by wave; each wave waits until every one got its first
        message (or failed), and the failed ones are tried once more."""
        held = refused = 0
        for start in range(0, len(subscriptions), WAVE):
            wave = subscriptions[start : start + WAVE]
            for attempt in range(2):
                results = await asyncio.gather(*(self._first(sub) for sub in wave))
                held += sum(results)
                wave = [sub for sub, ok in zip(wave, results, strict=True) if not ok]
                if not wave:
                    break
                if attempt == 0:
                    await asyncio.sleep(RETRY_AFTER_S)
            refused += len(wave)
        return Held(held, refused)

    async def _first(self, subscription: Subscription) -> bool:
        """Start one subscription; whether it got its first message (the current state)."""
        query, on_message = subscription
        ready = asyncio.Event()
        task: asyncio.Future[bool] = asyncio.ensure_future(self.client.subscribe(query, on_message, ready))
        self.tasks.append(task)
        waiting: asyncio.Future[bool] = asyncio.ensure_future(ready.wait())
        await asyncio.wait(
            {waiting, task}, timeout=clients.CONNECT_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED
        )
        waiting.cancel()
        if not ready.is_set():
            task.cancel()
        return ready.is_set()


@dataclass
class Many:
    """The part with many subscribers held."""

    held: int
    refused: int
    rss_mb_per_1k: float | None
    cpu_ms_per_event: float | None
    notice: Notice | None
    note: str


async def _many(
    client: Http, subscribers: Subscribers, server: Server, config: ModesConfig, held_already: int
) -> Many:
    """Fresh tracked orders, each followed by several subscribers, up to `config.subscribers` in
    all: RSS before and after they connect, then a window of changes for notice and CPU."""
    extra = max(0, config.subscribers - held_already)
    if extra == 0:
        return Many(0, 0, None, None, None, "")
    ledger = Ledger()
    orders = await clients.place_orders(client, server.order_body, config.trackers)
    tree = not server.connections_in_root
    rss_before = tree_rss_mb(server.pid, tree) if server.pid else None
    subscriptions = _trackers(ledger, list(orders), extra)
    random.Random(0).shuffle(subscriptions)  # noqa: S311 - connect order only
    opened = await subscribers.open(subscriptions)
    await asyncio.sleep(1.0)  # let the server's memory settle after the connection burst
    rss_after = tree_rss_mb(server.pid, tree) if server.pid else None
    cpu_before = tree_cpu_s(server.pid).total if server.pid else None
    changes = await clients.barista(client, server.staff, ledger, orders, config.change_rate, config.window_s)
    await asyncio.sleep(PUSH_GRACE_S)
    cpu = tree_cpu_s(server.pid).total - cpu_before if server.pid and cpu_before is not None else None
    rss_per_1k = None
    if rss_before is not None and rss_after is not None and opened.held:
        rss_per_1k = (rss_after - rss_before) / opened.held * 1000
    note = (
        f"{opened.held} more subscribers on {len(orders)} orders ({extra // max(1, len(orders))} per order); "
        f"server RSS {rss_before:.0f} → {rss_after:.0f} MiB"
        if rss_before is not None and rss_after is not None
        else f"{opened.held} more subscribers on {len(orders)} orders"
    )
    return Many(
        opened.held,
        opened.refused,
        rss_per_1k,
        cpu * 1000 / changes if cpu is not None and changes else None,
        ledger.notice(),
        note,
    )


def _mode(
    mode: str, transport: str, notice: Notice, changes: int, requests_per_s: float, **push: Any
) -> NoticeMode:
    return NoticeMode(
        mode=mode,
        transport=transport,
        notice_ms=notice.notice_ms,
        changes=changes,
        deliveries=notice.deliveries,
        missed=notice.missed,
        requests_per_s=requests_per_s,
        **push,
    )

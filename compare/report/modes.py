"""Section: push against polling, measured — how soon each runtime's screens notice a change,
what the screens send, and what the held connections cost the server (compare.modes)."""

from __future__ import annotations

from compare.report.charts import Charts
from compare.report.document import Block, Image, Para, Section, Table, literal
from compare.report.format import ms
from compare.results import NoticeMode, RunResults

TITLE = "Push or polling: how soon screens notice a change"

WHAT = (
    "Order trackers (one per order), the pickup board and the barista's queue kept current two ways "
    "while a barista moves the tracked orders on at a fixed rate: **polling** at the pages' own "
    "intervals (the census), then **push** through the runtime's own transport (`GET /live`: "
    "server-sent events from the container and the instance, API Gateway's WebSocket API for "
    "Lambda). Notice is from a change's answer reaching the barista to the tracker seeing it; for "
    "polling it includes the wait for the next poll. Then many more subscribers are held (several "
    "per order) to see the server's memory per 1,000 connections, its CPU per change, and the "
    "notice delay under that load."
)


def _row(name: str, mode: NoticeMode) -> list[str]:
    at_1k = mode.notice_ms_at_1k
    return [
        name,
        mode.mode,
        mode.transport,
        ms(mode.notice_ms.p50),
        ms(mode.notice_ms.p99),
        f"{mode.deliveries}/{mode.deliveries + mode.missed}",
        f"{mode.requests_per_s:.1f}",
        "–" if mode.subscribers is None else str(mode.subscribers),
        "–" if at_1k is None else f"{ms(at_1k.p50)} / {ms(at_1k.p99)}",
        "–" if mode.server_rss_mb_per_1k is None else f"{mode.server_rss_mb_per_1k:.1f}",
        "–" if mode.cpu_ms_per_event is None else ms(mode.cpu_ms_per_event),
        mode.source,
    ]


def section(results: RunResults, charts: Charts) -> Section:
    rows = []
    notes: list[str] = []
    for name, entry in results.runtimes.items():
        for mode in (entry.polling, entry.push):
            if mode is not None:
                rows.append(_row(name, mode))
        if entry.polling is not None and entry.push is None:
            notes.append(f"{name}: no push here (its `GET /live` offers none), so its screens poll.")
        if entry.push is not None and entry.push.note:
            notes.append(f"{name}: {entry.push.note}.")
        if entry.push is not None and entry.push.refused:
            notes.append(f"{name}: {entry.push.refused} subscriptions refused or dropped.")
    if not rows:
        return Section(TITLE, [Para("Not measured in this run (`--no-modes`, or remote mode).")])
    blocks: list[Block] = [
        Para(WHAT),
        Table(
            [
                "runtime",
                "mode",
                "transport",
                "notice p50 ms",
                "notice p99 ms",
                "seen",
                "client req/s",
                "subscribers",
                "with many: p50 / p99 ms",
                "RSS MiB per 1k",
                "CPU ms per change",
                "source",
            ],
            rows,
            caption="seen: (change, tracker) pairs noticed of all made. client req/s: what the screens "
            "sent during the window (push: connections and subscribe messages only). RSS and CPU: the "
            "runtime's whole process tree here (Lambda: the emulator's front, standing in for API "
            "Gateway, which holds the connections and bills connection minutes, not memory).",
        ),
    ]
    if notes:
        blocks.append(Para(" ".join(notes)))
    if charts.notice is not None:
        c = charts.notice
        blocks.append(Image(c.path, f"Notice delay by runtime and mode — {literal(c.footer)}", c.alt))
    return Section(TITLE, blocks)

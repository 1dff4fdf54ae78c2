"""The census file (``compare/cost/census.json``, written by ``make census``) as typed figures.

The census counted every request the real pages make in a real browser, in two runs: with push
unavailable (``GET /live`` answering none: the pages poll; the file's top level) and against a café
that pushes (``push``: the pages follow a stream). For each run it gives a customer's fixed
requests per order and the requests per minute of waiting (tab visible or hidden), the barista
tablet's and the pickup board's requests per open hour; for push also the streams each page holds
and the messages they carry. A census taken before push existed (version 1) has no ``push``: it
prices polling only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CENSUS = Path(__file__).with_name("census.json")
POLLING = "polling"
PUSH = "push"
MODES = (POLLING, PUSH)
PAGES = ("customer", "barista", "board")


class CensusError(ValueError):
    """The census file is missing or does not have the shape ``make census`` writes."""


Rates = dict[str, float]  # "<METHOD> <route>" → requests (per order, minute or hour)


def _rates(raw: Any, where: str) -> Rates:
    if not isinstance(raw, dict) or not all(isinstance(v, int | float) and v >= 0 for v in raw.values()):
        raise CensusError(f"census {where} must map '<METHOD> <route>' to non-negative numbers")
    return {str(route): float(count) for route, count in raw.items()}


def _number(raw: Any, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 0:
        raise CensusError(f"census {where} must be a non-negative number, not {raw!r}")
    return float(raw)


@dataclass(frozen=True)
class PageRates:
    """The requests each page sends in one mode, as counted by ``make census``."""

    customer_per_order: Rates
    customer_per_visible_minute: Rates
    customer_per_hidden_minute: Rates
    barista_per_open: Rates
    barista_per_open_hour: Rates
    barista_per_order: Rates
    board_per_open: Rates
    board_per_open_hour: Rates


def _page_rates(section: Any, where: str) -> PageRates:
    """``customer.per_order`` → ``customer_per_order`` and so on for every figure of PageRates."""
    figures = {}
    for name in PageRates.__dataclass_fields__:
        page, figure = name.split("_", 1)
        figures[name] = _rates(section[page][figure], f"{where}{page}.{figure}")
    return PageRates(**figures)


@dataclass(frozen=True)
class StreamCensus:
    """One page kind's live stream as the census counted it."""

    channel: str  # "order", "board" or "queue"
    per_unit: float  # streams opened per order (customer) or per opening of the page (screens)
    held_share: float  # of the tracking time (customer) or of the time the page is open (screens)
    messages_on_subscribe: float  # the current state, per order or per opening
    messages_per_order: float  # change messages per order (a screen: per order worked meanwhile)


@dataclass(frozen=True)
class PushCensus:
    """The pages following a café that pushes: their requests, streams and messages."""

    rates: PageRates
    streams: dict[str, StreamCensus]  # by page kind (PAGES)
    feed_changes_per_order: float  # change-feed events per order (placement and each transition)
    heartbeat_s: float  # the server's heartbeat on an idle stream (derived, not counted)
    websocket_ping_s: float  # the pages' WebSocket ping (read from their source)
    runtime: str
    transport: str


def _stream(raw: Any, where: str) -> StreamCensus:
    per = "per_order" if "per_order" in raw else "per_open"
    share = "held_share_of_tracking" if "held_share_of_tracking" in raw else "held_share_of_open"
    return StreamCensus(
        channel=str(raw["channel"]),
        per_unit=_number(raw[per], f"{where}.{per}"),
        held_share=_number(raw[share], f"{where}.{share}"),
        messages_on_subscribe=_number(raw["messages_on_subscribe"], f"{where}.messages_on_subscribe"),
        messages_per_order=_number(raw["messages_per_order"], f"{where}.messages_per_order"),
    )


def _push(raw: Any) -> PushCensus:
    return PushCensus(
        rates=_page_rates(raw, "push."),
        streams={page: _stream(raw["streams"][page], f"push.streams.{page}") for page in PAGES},
        feed_changes_per_order=_number(raw["feed_changes_per_order"], "push.feed_changes_per_order"),
        heartbeat_s=_number(raw["heartbeat_s"], "push.heartbeat_s"),
        websocket_ping_s=_number(raw["websocket_ping_s"], "push.websocket_ping_s"),
        runtime=str(raw["runtime"]),
        transport=str(raw["transport"]),
    )


@dataclass(frozen=True)
class Census(PageRates):
    """The census: the polling pages' rates (its own fields, as the load generator reads them),
    their intervals and provenance, and the pushed pages' figures where the census has them."""

    intervals_s: dict[str, float]
    provenance: dict[str, str]
    path: str
    push: PushCensus | None = None

    @property
    def source(self) -> str:
        p = self.provenance
        return (
            f"census {self.path} ({p.get('command', 'make census')}, {p.get('date', '?')}, "
            f"{p.get('browser', '?')}, revision {p.get('git_revision', '?')}): "
            "measured here in a real browser"
        )

    def rates(self, mode: str) -> PageRates:
        """The pages' requests in ``mode``: polling (push unavailable) or push."""
        if mode == POLLING:
            return self
        if mode == PUSH:
            if self.push is None:
                raise CensusError(
                    f"the census {self.path} has no push figures (taken before push): run `make census`"
                )
            return self.push.rates
        raise CensusError(f"mode must be one of {MODES}, not {mode!r}")

    def refresh_routes(self, page: str) -> Rates:
        """One refresh of ``page``'s view (what it sends per polling tick, ``/health`` aside): also
        what it sends to resynchronise after its stream reconnects."""
        per_tick = {
            "customer": (self.customer_per_visible_minute, 60.0 / self.intervals_s["tracking_visible"]),
            "barista": (self.barista_per_open_hour, 3600.0 / self.intervals_s["barista"]),
            "board": (self.board_per_open_hour, 3600.0 / self.intervals_s["board"]),
        }
        rates, ticks = per_tick[page]
        # A route sent at least once a tick is the view's own; slower ones (/health) are not.
        return {route: float(round(n / ticks)) for route, n in rates.items() if n >= ticks * 0.98}


def _relative(path: Path) -> str:
    root = CENSUS.parents[2]
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def load_census(path: Path = CENSUS) -> Census:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CensusError(f"no census at {path}: run `make census`") from None
    except json.JSONDecodeError as exc:
        raise CensusError(f"{path}: not valid JSON ({exc})") from exc
    try:
        polling = _page_rates(raw, "")
        return Census(
            **{name: getattr(polling, name) for name in PageRates.__dataclass_fields__},
            intervals_s={str(k): float(v) for k, v in raw["intervals_s"].items()},
            provenance={str(k): str(v) for k, v in raw["provenance"].items()},
            path=_relative(path),
            push=_push(raw["push"]) if "push" in raw else None,
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise CensusError(f"{path}: not a census as `make census` writes it ({exc!r})") from exc

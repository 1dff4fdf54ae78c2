"""Fargate's and EC2's live push, priced from its AWS parts.

The container and the instance push from their own processes (server-sent events through the
ALB, ``cafe.live``): one hub per server process reads the change feed and fans each change out to
the streams that process holds. What that costs on AWS, beside the compute itself:

- **the ALB** carries the streams: a new connection each, held (active connections), the
  messages and heartbeats (processed bytes). ``network.lcu`` bills each hour on its largest
  dimension;
- **the feed** (the design in docs/live.md: DynamoDB Streams allow two readers per shard, so the
  hubs do not read the stream): a consumer function, triggered by the table's stream through an
  event source mapping (its reads free), appends each change to a feed item collection of the
  same table; every hub queries it every 200 ms while anyone follows, and reads the board and the
  queue again after each batch of changes it finds, where it holds their subscribers;
- **the memory** the held streams take, measured per subscriber: does it change the task's or the
  instance's size?
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from compare.cost import feed
from compare.cost.dynamodb_units import WRITE_UNIT_BYTES, live_read_units, representative_sizes
from compare.cost.items import LineItem, line
from compare.cost.prices import PriceBook
from compare.cost.profile import FargateConfig, Profile, ServerConfig
from compare.cost.sizing import Plan, hourly_held, hourly_orders, peak_held

#: The hubs' feed query period in docs/live.md's design (each process, while anyone follows).
FEED_QUERY_EVERY_S = 0.2
#: The consumer function: the smallest memory, one write of its batch (assumed, docs/live.md).
CONSUMER_MEMORY_MB = 128
CONSUMER_BILLED_MS = 20.0
EVENTUAL_READ = 0.5
#: Memory a server process takes, and each stream it holds: measured here (docs/live.md: one
#: uvicorn worker under gunicorn, SQLite, 500 SSE subscribers, RSS 33.8 MiB idle → 44.5 MiB,
#: ≈ 21 KiB each with the first message; 2026-12-04). docs/benchmarks.md holds no per-subscriber
#: figure yet: when `make bench` measures one, it replaces these.
PROCESS_RSS_MIB = 33.8
SUBSCRIBER_KIB = 21.0
MEMORY_SOURCE = (
    "measured here: docs/live.md (one uvicorn worker, 500 SSE subscribers, RSS 33.8 → 44.5 MiB, "
    "≈ 21 KiB each, 2026-12-04; docs/benchmarks.md has no per-subscriber figure yet)"
)
#: Keep a fifth of a unit's memory free for the runtime, the OS and bursts (an assumption).
MEMORY_HEADROOM = 0.8
#: Fargate's memory sizes per vCPU size (Linux; reference.md, "Resource shapes").
FARGATE_MEMORY_GB: dict[float, tuple[float, ...]] = {
    0.25: (0.5, 1.0, 2.0),
    0.5: (1.0, 2.0, 3.0, 4.0),
    1.0: tuple(float(g) for g in range(2, 9)),
    2.0: tuple(float(g) for g in range(4, 17)),
    4.0: tuple(float(g) for g in range(8, 31)),
}
FEED_DESIGN = (
    "docs/live.md's design: a consumer function appends each change to a feed; each process's hub "
    "queries it every 200 ms while anyone follows (eventually consistent, under 4 KB)"
)

C = TypeVar("C", bound=ServerConfig)


def _max_subscribers() -> int:
    """The most streams one process holds before it refuses (CAFE_LIVE_MAX_SUBSCRIBERS)."""
    from cafe.live.hub import MAX_SUBSCRIBERS

    return MAX_SUBSCRIBERS


@dataclass(frozen=True)
class MemoryCheck:
    """The streams held at the busiest hour against a unit's memory."""

    peak_streams: float
    units: int
    processes_per_unit: int
    needed_mib_per_unit: float
    memory_mib_per_unit: float
    fits: bool
    change: str  # what was changed to make it fit, or "none"

    def sentence(self, unit: str) -> str:
        verdict = "fits" if self.fits else "does NOT fit"
        return (
            f"the held streams take {self.needed_mib_per_unit:.3g} MiB of {self.memory_mib_per_unit:g} "
            f"per {unit} at the busiest hour, {self.processes_per_unit} process(es) included ({verdict}; "
            f"changed: {self.change})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "peak_streams": round(self.peak_streams, 2),
            "units_at_peak": self.units,
            "processes_per_unit": self.processes_per_unit,
            "needed_mib_per_unit": round(self.needed_mib_per_unit, 2),
            "memory_mib_per_unit": round(self.memory_mib_per_unit, 1),
            "headroom": MEMORY_HEADROOM,
            "fits": self.fits,
            "changed": self.change,
            "per_stream_kib": SUBSCRIBER_KIB,
            "per_process_mib": PROCESS_RSS_MIB,
            "source": MEMORY_SOURCE,
            "label": "modeled from a figure measured here",
        }


def memory_check(profile: Profile, units: int, processes: int, memory_mib: float, change: str) -> MemoryCheck:
    streams = peak_held(profile)
    needed = processes * PROCESS_RSS_MIB + streams / max(units, 1) * SUBSCRIBER_KIB / 1024.0
    per_process = streams / max(units, 1) / processes
    fits = needed <= memory_mib * MEMORY_HEADROOM and per_process <= _max_subscribers()
    return MemoryCheck(streams, units, processes, needed, memory_mib, fits, change)


def units_for_streams(profile: Profile, processes: int, memory_mib: float) -> int:
    """The fewest units whose memory (and each process's subscriber cap) holds the peak streams."""
    streams = peak_held(profile)
    room = memory_mib * MEMORY_HEADROOM - processes * PROCESS_RSS_MIB
    by_memory = math.ceil(streams * SUBSCRIBER_KIB / 1024.0 / room - 1e-9) if room > 0 else 10**6
    by_cap = math.ceil(streams / (processes * _max_subscribers()) - 1e-9)
    return max(1, by_memory, by_cap)


def fit(profile: Profile, cfg: C, processes: int, memory_gb: float, units: int) -> tuple[C, str]:
    """A unit that holds its share of the busiest hour's streams. A Fargate task gets more memory
    within its vCPU size first (a GB costs less than a task); otherwise more units (an explicit
    count is kept, and the check says it does not fit). Returns the config to price and what changed."""
    if memory_check(profile, units, processes, memory_gb * 1024.0, "").fits:
        return cfg, "none"
    if isinstance(cfg, FargateConfig):
        for size in (g for g in FARGATE_MEMORY_GB.get(cfg.vcpu, ()) if g > memory_gb):
            if memory_check(profile, units, processes, size * 1024.0, "").fits:
                bigger: C = replace(cfg, memory_gb=size)
                return bigger, f"task memory {memory_gb:g} → {size:g} GB for the held streams"
    if cfg.count is not None:
        return cfg, "none possible: the profile fixes the count"
    need = units_for_streams(profile, processes, memory_gb * 1024.0)
    return replace(cfg, min_count=max(cfg.min_count, need)), f"at least {need} units for the held streams"


@dataclass(frozen=True)
class ServerPush:
    """A server runtime's live push in a month, beside the ALB's share (``network.lcu``)."""

    consumer_invocations: float
    consumer_gb_s: float
    feed_writes: float  # write request units
    feed_queries: float
    feed_reads: float  # read request units of the hubs' queries
    hub_reads: float  # read request units of the board and queue reads after batches
    stream_polls: float
    hubs_open_day: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "feed_consumer_invocations": round(self.consumer_invocations, 1),
            "feed_consumer_gb_s": round(self.consumer_gb_s, 3),
            "feed_write_units": round(self.feed_writes, 1),
            "feed_queries": round(self.feed_queries, 1),
            "feed_read_units": round(self.feed_reads, 1),
            "hub_board_queue_read_units": round(self.hub_reads, 1),
            "stream_getrecords": round(self.stream_polls, 1),
            "hubs_per_hour_open_day": list(self.hubs_open_day),
            "design": FEED_DESIGN,
            "label": "modeled",
        }


def quantities(profile: Profile, p: Plan, processes: int) -> ServerPush:
    """The feed's and the hubs' DynamoDB and Lambda usage for the units ``p`` runs."""
    live = profile.traffic.live
    if live is None:
        raise ValueError("server push quantities need the traffic in push mode")
    sizes = representative_sizes()
    reads = live_read_units(profile.queue())
    per_change = feed.changes_per_order(profile)
    polls_per_hour = 3600.0 / FEED_QUERY_EVERY_S
    screens = {page.channel: page for name, page in live.pages.items() if name != "customer"}
    screen_days = {c: page.subscriptions / profile.open_days_per_month for c, page in screens.items()}
    queries = found_reads = hub_reads = 0.0
    hubs: list[int] = []
    for held, orders, units in zip(
        hourly_held(profile), hourly_orders(profile), p.counts_open_day, strict=True
    ):
        hubs_now = units * processes if held > 0 else 0  # a hub reads only while someone follows
        hubs.append(hubs_now)
        queries += hubs_now * polls_per_hour
        rate = orders * per_change / 3600.0
        batches = polls_per_hour * (1.0 - math.exp(-rate * FEED_QUERY_EVERY_S))  # per hub
        found_reads += hubs_now * orders * per_change * EVENTUAL_READ  # each change read by every hub
        for channel, per_day in screen_days.items():
            # Screens are spread over the hubs: one hub per screen until there are more screens.
            holding = min(hubs_now, math.ceil(per_day)) if per_day > 0 else 0
            hub_reads += holding * batches * reads[channel]
    days = profile.open_days_per_month
    batches = feed.batches_per_month(profile)
    item_units = max(1, math.ceil(sizes.order_completed / WRITE_UNIT_BYTES))
    return ServerPush(
        consumer_invocations=batches,
        consumer_gb_s=batches * CONSUMER_BILLED_MS / 1000.0 * CONSUMER_MEMORY_MB / 1024.0,
        feed_writes=live.feed_changes * item_units,
        feed_queries=queries * days,
        feed_reads=(queries * EVENTUAL_READ + found_reads) * days,  # an empty query: half a unit
        hub_reads=hub_reads * days,
        stream_polls=feed.polls_per_month(profile),
        hubs_open_day=hubs,
    )


def push_lines(push: ServerPush, book: PriceBook, what: str) -> list[LineItem]:
    """The feed's lines (the ALB's are with the ALB)."""
    read, write = book.price("dynamodb.ondemand.read"), book.price("dynamodb.ondemand.write")
    first_tier = book.tiered("lambda.duration.arm64")
    duration = first_tier.tiers[0]
    return [
        line(
            "Feed consumer Lambda requests (one per stream batch)",
            push.consumer_invocations,
            book.price("lambda.requests"),
            f"modeled: {feed.SOURCE}",
        ),
        LineItem(
            f"Feed consumer Lambda duration ({CONSUMER_MEMORY_MB} MB arm64 × "
            f"{CONSUMER_BILLED_MS:g} ms a batch, assumed; first tier)",
            push.consumer_gb_s,
            first_tier.unit,
            duration.usd,
            first_tier.label(),
            "modeled: batches × an assumed duration",
        ),
        line(
            "DynamoDB feed writes (each change's new image, appended by the consumer)",
            push.feed_writes,
            write,
            "modeled: the census's changes per order × the order item's write units",
        ),
        line(
            f"DynamoDB feed queries by each {what} process's hub (every 200 ms while anyone follows)",
            push.feed_reads,
            read,
            f"modeled: {FEED_DESIGN}; the units and processes running each hour",
        ),
        line(
            f"DynamoDB reads by the hubs (the board and the queue after each batch, per {what} holding them)",
            push.hub_reads,
            read,
            "modeled: the hub's reads (LIVE_CALLS, held to the code) × the batches each hub finds",
        ),
        line(
            "DynamoDB Streams GetRecords by the consumer's event source mapping (free)",
            push.stream_polls,
            book.price("dynamodb.streams.read_request.lambda_trigger"),
            f"modeled: {feed.SOURCE}",
        ),
    ]

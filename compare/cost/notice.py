"""How late a screen shows a change, per runtime and mode (modeled), for the notice-delay target.

**Polling.** The next poll comes uniformly within the page's interval (the census's intervals,
measured in the browser), then the request itself: the runtime's p99 input is added to every
percentile (an upper bound; none is added where the profile gives none, and the basis says so).

**Push.** From a committed change to the page, over the delivery path each runtime has on AWS,
drawn by Monte Carlo from its parts:

- every runtime: the table's stream is read by an event source mapping that polls 4 times a
  second, so a change waits up to 250 ms for the poll that finds it;
- Lambda: the stream handler looks the channel's subscribers up (a DynamoDB query), reads the
  board or the queue for those screens (another query), then posts to every subscriber on 16
  threads (``lambda.post_ms`` each; a page's place among the change's posts uniform), and API Gateway
  delivers the frame (its REST API's added latency stands in: no published WebSocket figure);
- Fargate and EC2 (the feed of docs/live.md): the consumer writes the change to the feed (a
  PutItem), the hub queries the feed every 200 ms (a wait of up to 200 ms, then the query), reads
  the board or the queue for those screens, fans out in-process (98 ms for 500 subscribers,
  measured here: docs/live.md; a page's place uniform) and the ALB forwards it.

The stream record's own time to appear is not modeled: there is no published figure. A hidden tab
is not judged: the page refreshes at once when it is shown again. The target is judged on the
slowest screen that shows changes to someone watching: the tracking page, the board, the barista's
queue.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cafe.live.poster import POST_WORKERS
from compare.aws_model.overheads import Overheads
from compare.aws_model.overheads import load as load_overheads
from compare.cost.census_file import POLLING, PUSH
from compare.cost.feed import POLLS_PER_S
from compare.cost.profile import Profile
from compare.cost.push_lambda import posts_per_change, stream_utilisation
from compare.cost.push_servers import FEED_QUERY_EVERY_S

SAMPLES = 20_000
SEED = 20261204
#: In-process fan-out, measured here: one transition reached 500 subscribers in 98 ms (docs/live.md).
FAN_OUT_MS_PER_SUBSCRIBER = 98.0 / 500
# Screens judged, with the polling interval the census names and the channel they follow.
SCREENS = {
    "customer, tab visible": ("tracking_visible", "order"),
    "board": ("board", "board"),
    "barista": ("barista", "queue"),
}
POLLING_LABEL = "modeled from the census's polling intervals (measured here) and the runtime's p99 input"
PUSH_LABEL = "modeled from the delivery path's parts (overheads file, docs/live.md, the profile)"

Draw = Callable[[np.random.Generator, int], NDArray[np.float64]]


@dataclass(frozen=True)
class Notice:
    """How late each judged screen shows a change, and the slowest of them."""

    runtime: str
    mode: str
    by_screen: dict[str, tuple[float, float]]  # screen → (p50, p99) in ms
    parts: list[str] = field(default_factory=list)
    keeps_up: bool = True  # False: the pusher falls behind at the busiest hour (no bound on the delay)

    @property
    def screen(self) -> str:
        return max(self.by_screen, key=lambda s: self.by_screen[s][1])

    @property
    def p50_ms(self) -> float:
        return self.by_screen[self.screen][0]

    @property
    def p99_ms(self) -> float:
        return self.by_screen[self.screen][1]

    def meets(self, target_ms: float | None) -> bool | None:
        if not self.keeps_up:
            return False
        return None if target_ms is None else self.p99_ms <= target_ms

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "p50_ms": round(self.p50_ms, 1),
            "p99_ms": round(self.p99_ms, 1),
            "slowest_screen": self.screen,
            "by_screen": {
                s: {"p50_ms": round(a, 1), "p99_ms": round(b, 1)} for s, (a, b) in self.by_screen.items()
            },
            "keeps_up": self.keeps_up,
            "parts": list(self.parts),
            "label": POLLING_LABEL if self.mode == POLLING else PUSH_LABEL,
        }


def polling(profile: Profile, runtime: str) -> Notice:
    intervals = profile.traffic.intervals_s
    request = profile.p99_ms.get(runtime, 0.0)
    by_screen = {
        screen: (intervals[key] * 500.0 + request, intervals[key] * 990.0 + request)
        for screen, (key, _) in SCREENS.items()
        if key in intervals
    }
    said = (
        f"+ the request's p99 {request:g} ms ({profile.inputs.label(f'p99_ms.{runtime}')})"
        if runtime in profile.p99_ms
        else "+ no request time (the profile gives no p99 for this runtime)"
    )
    parts = [f"the next poll: uniform within the page's interval ({POLLING_LABEL.split(' and ')[0]})", said]
    return Notice(runtime, POLLING, by_screen, parts)


def _uniform(high_ms: float) -> Draw:
    return lambda rng, n: rng.uniform(0.0, high_ms, n)


def _paths(profile: Profile, runtime: str, over: Overheads, fan_out: float) -> dict[str, list[Draw]]:
    """Each judged screen's delivery path on ``runtime``, part by part (module docstring)."""
    query = over["dynamodb.Query.ms"].distribution().sample
    poll = _uniform(1000.0 / POLLS_PER_S)
    if runtime == "lambda":
        # A change's posts (its order's page, the boards, the tablets) go out on POST_WORKERS threads.
        rounds = math.ceil(posts_per_change(profile) / POST_WORKERS)
        post_ms = profile.lambda_.post_ms
        common = [poll, query, _uniform(rounds * post_ms), over["apigw.rest.added_ms"].distribution().sample]
    else:
        common = [
            poll,
            over["dynamodb.PutItem.ms"].distribution().sample,
            _uniform(FEED_QUERY_EVERY_S * 1000.0),
            query,
            _uniform(fan_out * FAN_OUT_MS_PER_SUBSCRIBER),
            over["alb.added_ms"].distribution().sample,
        ]
    # The board's and the queue's screens wait for one more read (the order's change comes whole).
    return {
        screen: common + ([] if channel == "order" else [query]) for screen, (_, channel) in SCREENS.items()
    }


def push(profile: Profile, runtime: str, hubs: int = 1, over: Overheads | None = None) -> Notice:
    """By push on ``runtime``; ``hubs``: the server processes running at the busiest hour, over
    which the screens' streams spread (a change fans out to its order's page and the screens)."""
    over = over or load_overheads()
    shape = profile.shape
    fan_out = 1 + (shape.boards + shape.barista_tablets) / max(hubs, 1)
    by_screen = {}
    for screen, path in _paths(profile, runtime, over, fan_out).items():
        rng = np.random.default_rng([SEED, sum(map(ord, runtime + screen))])
        total = np.zeros(SAMPLES)
        for part in path:
            total += part(rng, SAMPLES)
        by_screen[screen] = (float(np.percentile(total, 50)), float(np.percentile(total, 99)))

    def source(name: str) -> str:
        return f"{name} ({over[name].label()})"

    esm = "the stream's event source mapping: up to 250 ms (4 polls a second; AWS Lambda developer guide)"
    if runtime == "lambda":
        parts = [
            esm,
            f"the subscriber lookup, and the board's or queue's read: {source('dynamodb.Query.ms')}",
            f"posts on {POST_WORKERS} threads, {profile.lambda_.post_ms:g} ms each "
            f"({profile.inputs.label('lambda.post_ms')})",
            f"API Gateway's frame, the REST API's added latency standing in: {source('apigw.rest.added_ms')}",
        ]
    else:
        parts = [
            esm,
            f"the consumer's feed write: {source('dynamodb.PutItem.ms')}",
            "the hub's feed query every 200 ms (docs/live.md's design), then the query, and the board's "
            f"or queue's read: {source('dynamodb.Query.ms')}",
            f"in-process fan-out to {fan_out:.3g} streams a change: 98 ms per 500 (measured here, "
            "docs/live.md)",
            f"the ALB: {source('alb.added_ms')}",
        ]
    parts.append("the stream record's own delay is not modeled (no published figure)")
    keeps_up = True
    if runtime == "lambda":
        busy = stream_utilisation(profile)
        keeps_up = busy < 1.0
        parts.append(
            f"the stream handler is busy {busy:.2g} of the busiest hour (one batch at a time per shard): "
            + ("it keeps up" if keeps_up else "it falls behind, so the delay grows without bound")
        )
    return Notice(runtime, PUSH, by_screen, parts, keeps_up)


def notice(profile: Profile, runtime: str, hubs: int = 1) -> Notice:
    """The profile's mode on ``runtime``."""
    if profile.mode == PUSH:
        return push(profile, runtime, hubs)
    return polling(profile, runtime)

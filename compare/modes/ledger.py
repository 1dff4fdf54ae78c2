"""The notice ledger: changes as the barista saw them committed, sightings as trackers saw them.

Notice is computed at the end, so the order in which answers and messages arrive does not matter:
a pushed message may reach a tracker before the change's own answer reaches the barista, and then
the tracker noticed it at once (0 ms, never a negative delay).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from compare.load.stats import new_histogram, percentile_summary
from compare.results import Percentiles


@dataclass(frozen=True)
class Notice:
    """What the ledger found: the delays' percentiles, the pairs seen, the pairs never seen."""

    notice_ms: Percentiles
    changes: int
    deliveries: int
    missed: int


@dataclass
class Ledger:
    """Changes per order (version, answer time) and, per tracker, the first time it saw each
    higher version of the order it follows (monotonic seconds)."""

    changes: dict[str, list[tuple[int, float]]] = field(default_factory=lambda: defaultdict(list))
    sightings: dict[int, list[tuple[int, float]]] = field(default_factory=lambda: defaultdict(list))
    follows: dict[int, str] = field(default_factory=dict)

    def follow(self, tracker: int, order_id: str) -> None:
        self.follows[tracker] = order_id

    def committed(self, order_id: str, version: int, at: float) -> None:
        self.changes[order_id].append((version, at))

    def saw(self, tracker: int, version: int, at: float) -> None:
        seen = self.sightings[tracker]
        if not seen or version > seen[-1][0]:
            seen.append((version, at))

    def notice(self, since: float = 0.0) -> Notice:
        """Every (change committed at or after `since`, tracker of its order) pair: the delay to
        the first sighting of that version or a later one, or missed when there was none."""
        histogram = new_histogram()
        delivered = missed = 0
        counted = {(order, v) for order, made in self.changes.items() for v, at in made if at >= since}
        for tracker, order_id in self.follows.items():
            seen = self.sightings.get(tracker, [])
            for version, at in self.changes.get(order_id, []):
                if at < since:
                    continue
                first = next((t for v, t in seen if v >= version), None)
                if first is None:
                    missed += 1
                    continue
                delivered += 1
                histogram.record_value(max(1, int((first - at) * 1_000_000)))  # µs, never below 1
        return Notice(percentile_summary(histogram), len(counted), delivered, missed)

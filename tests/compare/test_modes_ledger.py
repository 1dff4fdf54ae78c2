"""The notice ledger: delays from a change's answer to the first sighting of it or a later version."""

from __future__ import annotations

from compare.modes.ledger import Ledger


def test_a_sighting_after_the_answer_is_its_delay_and_a_later_version_covers_earlier_ones() -> None:
    ledger = Ledger()
    ledger.follow(0, "a")
    ledger.committed("a", 2, at=10.0)
    ledger.committed("a", 3, at=11.0)
    ledger.saw(0, 1, at=9.0)  # the state before: no change noticed by it
    ledger.saw(0, 3, at=11.5)  # one poll saw both changes
    notice = ledger.notice()
    assert (notice.changes, notice.deliveries, notice.missed) == (2, 2, 0)
    assert abs(notice.notice_ms.max - 1500) < 2  # HDR histogram: 3 significant figures
    assert abs(notice.notice_ms.p50 - 500) < 1


def test_a_push_before_the_answer_counts_as_noticed_at_once_never_negative() -> None:
    ledger = Ledger()
    ledger.follow(0, "a")
    ledger.saw(0, 2, at=4.99)
    ledger.committed("a", 2, at=5.0)
    notice = ledger.notice()
    assert notice.deliveries == 1 and notice.notice_ms.max < 0.01


def test_unseen_changes_are_missed_and_changes_before_the_window_are_not_counted() -> None:
    ledger = Ledger()
    ledger.follow(0, "a")
    ledger.follow(1, "b")
    ledger.committed("a", 2, at=1.0)  # before the window
    ledger.committed("a", 3, at=6.0)
    ledger.committed("b", 2, at=6.0)
    ledger.saw(0, 3, at=6.2)
    notice = ledger.notice(since=5.0)
    assert (notice.changes, notice.deliveries, notice.missed) == (2, 1, 1)


def test_a_sighting_of_an_older_version_is_not_news() -> None:
    ledger = Ledger()
    ledger.follow(0, "a")
    ledger.saw(0, 3, at=1.0)
    ledger.saw(0, 2, at=2.0)
    assert ledger.sightings[0] == [(3, 1.0)]

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from cafe.domain.menu import LocalizedName
from cafe.domain.orders import (
    ALLOWED,
    Order,
    OrderLine,
    StaleVersion,
    Status,
    StatusChange,
    Transition,
    TransitionRefused,
    new_order_id,
)

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def make_order(status: Status = Status.PLACED) -> Order:
    line = OrderLine("americano", LocalizedName("아메리카노", "Americano"), 2, {"size": "regular"}, 4500)
    return Order(
        id=new_order_id(),
        customer="Kim",
        lines=(line,),
        currency="KRW",
        business_day="2026-11-26",
        history=(StatusChange(status, NOW),),
        number=7,
    )


def test_total_is_derived_from_the_lines():
    assert make_order().total == 9000


def test_the_happy_path():
    order = make_order()
    for target in (Status.PREPARING, Status.READY, Status.COMPLETED):
        order = order.move_to(target, NOW)
    assert order.status is Status.COMPLETED
    assert [c.status for c in order.history] == [
        Status.PLACED,
        Status.PREPARING,
        Status.READY,
        Status.COMPLETED,
    ]
    assert order.version == 4


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (Status.PLACED, Status.READY),
        (Status.PLACED, Status.COMPLETED),
        (Status.PREPARING, Status.PLACED),
        (Status.READY, Status.CANCELLED),
        (Status.COMPLETED, Status.CANCELLED),
        (Status.CANCELLED, Status.PREPARING),
        (Status.PLACED, Status.PLACED),
    ],
)
def test_refused_transitions(start, target):
    with pytest.raises(TransitionRefused):
        make_order(start).move_to(target, NOW)


@pytest.mark.parametrize("start", [Status.PLACED, Status.PREPARING])
def test_staff_may_cancel_while_waiting(start):
    assert make_order(start).move_to(Status.CANCELLED, NOW).status is Status.CANCELLED


def test_customer_may_cancel_only_while_placed():
    assert make_order().move_to(Status.CANCELLED, NOW, by_customer=True).status is Status.CANCELLED
    with pytest.raises(TransitionRefused):
        make_order(Status.PREPARING).move_to(Status.CANCELLED, NOW, by_customer=True)
    with pytest.raises(TransitionRefused):
        make_order().move_to(Status.PREPARING, NOW, by_customer=True)


def test_round_trip_through_dict():
    order = make_order().move_to(Status.PREPARING, NOW)
    assert Order.from_dict(order.to_dict()) == order


def test_the_json_is_the_dict_encoded_once_per_version():
    order = make_order()
    assert json.loads(order.as_json) == order.to_dict()
    assert order.as_json is order.as_json  # kept, not encoded again
    moved = order.move_to(Status.PREPARING, datetime(2026, 12, 2, 10, 5, tzinfo=UTC))
    assert json.loads(moved.as_json) == moved.to_dict()  # a new version has its own text
    assert json.loads(moved.as_json)["updated_at"] != json.loads(order.as_json)["updated_at"]


@pytest.mark.parametrize("by_customer", [False, True])
@pytest.mark.parametrize("target", list(Status))
def test_a_transitions_sources_are_exactly_the_statuses_it_is_allowed_from(target, by_customer):
    change = Transition(target, NOW, by_customer=by_customer)
    for status in Status:
        order = make_order(status)
        if status in change.sources:
            assert change(order).status is target
        else:
            with pytest.raises(TransitionRefused):
                change(order)


def test_an_order_that_left_the_queue_never_returns_to_it():
    """The DynamoDB store's queue cap rests on this (cafe.stores.dynamodb_waiting): it deletes the
    id of an order that left from the set of waiting ids for good."""
    for source, targets in ALLOWED.items():
        if not source.waiting:
            assert not any(target.waiting for target in targets), source
    assert Status.PLACED.waiting  # orders start waiting: the placement puts their id in the set


def test_ids_are_unguessable():
    ids = {new_order_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) >= 22 for i in ids)  # 128 bits in URL-safe base64


# -- a change met again: a retried request is answered, never refused ----------------------------


def test_a_transition_has_reached_an_order_its_own_write_moved():
    order = make_order()
    start = Transition(Status.PREPARING, NOW + timedelta(minutes=1))
    moved = start(order)
    assert start.reached(moved) and not start.reached(order)
    # Later changes do not hide it: the history still holds it.
    assert start.reached(Transition(Status.READY, NOW + timedelta(minutes=2))(moved))
    # Another request for the same change, a moment later, is another request.
    assert not Transition(Status.PREPARING, NOW + timedelta(minutes=1, microseconds=1)).reached(moved)


def test_with_an_expected_version_a_retry_is_recognised_by_the_version_it_left():
    order = make_order()
    start = Transition(Status.PREPARING, NOW + timedelta(minutes=1), expected_version=1)
    moved = Transition(Status.PREPARING, NOW + timedelta(minutes=2))(order)  # a first attempt's write
    assert start.reached(moved)
    assert not Transition(Status.CANCELLED, NOW, expected_version=1).reached(moved)
    assert not Transition(Status.READY, NOW, expected_version=2).reached(moved)


def test_an_expected_version_the_order_left_is_refused_as_stale():
    moved = Transition(Status.PREPARING, NOW)(make_order())
    stale = Transition(Status.READY, NOW, expected_version=1)
    assert not stale.allows(moved)
    with pytest.raises(StaleVersion) as refused:
        stale(moved)
    assert refused.value.details == {"version": 2, "expected": 1, "status": "PREPARING"}


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("target", list(Status))
@pytest.mark.parametrize("by_customer", [False, True])
def test_allows_says_exactly_when_calling_would_succeed(status, target, by_customer):
    order = make_order(status)
    change = Transition(target, NOW, by_customer=by_customer)
    try:
        change(order)
    except TransitionRefused:
        assert not change.allows(order)
    else:
        assert change.allows(order)

"""The API on its DynamoDB store, with one fault at every DynamoDB call of every operation.

Two API instances (``a`` and ``b``, as two Lambda environments or tasks) share one table on a
moto server. For each operation, fault kind and mode, the operation is first run fault-free to
list its DynamoDB calls; then, once per call, it runs with the fault injected at that call
(``tests.faults.injector``: below botocore's retry handler, so botocore's retries run as they
would on AWS), and once more fault-free as the client's retry (the same request: the same
Idempotency-Key, the same If-Match). After each case every invariant is checked:

- no answer is a 500; a fault botocore absorbed changes no answer; one it gave up on is a 503
  with Retry-After, or the answer itself where the store could learn it from the table;
- the retry answers as a fault-free first attempt would: a change already made is a success,
  never a refusal, and a placement already stored is the same order;
- one order per placement (with a key or without), pickup numbers unique, ``waiting`` exact,
  no status entered twice, and ``OrdersPlaced`` counted once per stored order.
"""

from __future__ import annotations

import itertools
import json
import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import boto3
import pytest
from botocore.retries import standard

from cafe.api import CafeApi, Request, Response, StaffGuard
from cafe.domain.menu import load_menu
from cafe.domain.orders import Order
from cafe.observability import Telemetry
from cafe.service import CafeService
from cafe.stores import dynamodb, dynamodb_waiting
from cafe.stores.dynamodb import DynamoDBStore, client_config, create_table
from cafe.stores.dynamodb_codec import order_from_item
from cafe.stores.dynamodb_items import BODY_ATTRIBUTE
from tests.contract.dynamodb_factory import DUMMY_ENVIRONMENT, REGION, moto_server
from tests.faults.injector import Fault, FaultInjector, Mode

pytestmark = pytest.mark.live

STAFF_TOKEN = "fault-suite-staff-token"
ITEM = "americano"
WAITING = ("PLACED", "PREPARING")


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with mock.patch.dict(os.environ, DUMMY_ENVIRONMENT), moto_server() as url:
        yield url


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries without their sleeps: the suite checks what is retried, not how long it waits."""
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)
    monkeypatch.setattr(dynamodb, "BACKOFF_BASE_SECONDS", 0.0)
    monkeypatch.setattr(dynamodb_waiting, "UNPROCESSED_BACKOFF_SECONDS", 0.0)


class Instance:
    """One API instance on its own store and client (its own cache of orders seen)."""

    def __init__(self, table: str, endpoint: str, session: boto3.session.Session) -> None:
        # A client of its own (its own retry quota, as each Lambda environment has), configured
        # as the store configures its own; one session, so the service model is loaded once.
        client = session.client("dynamodb", endpoint_url=endpoint, config=client_config())
        self.store = DynamoDBStore(table, client=client)
        service = CafeService(self.store, load_menu("KRW"), zone=ZoneInfo("Asia/Seoul"))
        telemetry = Telemetry("lambda")
        self.placed = 0
        count = telemetry.order_placed

        def counted(value: int) -> None:
            self.placed += 1
            count(value)

        telemetry.order_placed = counted  # type: ignore[method-assign]
        self.api = CafeApi(
            service, runtime="lambda", staff_token=STAFF_TOKEN, telemetry=telemetry, guard=StaffGuard()
        )
        self.faults = FaultInjector()
        self.faults.attach(self.store.client)

    def call(
        self, method: str, path: str, body: Any = None, *, staff: bool = False, **headers: str
    ) -> Response:
        names = {name.replace("_", "-").lower(): value for name, value in headers.items()}
        if staff:
            names["authorization"] = f"Bearer {STAFF_TOKEN}"
        payload = b"" if body is None else json.dumps(body).encode()
        return self.api.handle(Request(method, path, names, {}, payload))


@dataclass
class Cafe:
    a: Instance
    b: Instance
    customers: Iterator[int] = field(default_factory=itertools.count)

    def orders(self) -> list[Order]:
        """Every order in the table, read straight from it."""
        client = self.a.store.client
        table = self.a.store.table_name
        with_faults_off(self)
        items = client.scan(TableName=table, ConsistentRead=True)["Items"]
        return [order_from_item(item) for item in items if BODY_ATTRIBUTE in item]

    def place(self, instance: Instance, customer: str) -> dict[str, Any]:
        response = instance.call("POST", "/orders", order_body(customer), idempotency_key=str(uuid.uuid4()))
        assert response.status == 201, response.body
        return response.json()  # type: ignore[no-any-return]

    def move(self, instance: Instance, order: dict[str, Any], status: str) -> dict[str, Any]:
        response = instance.call(
            "POST", f"/orders/{order['id']}/status", {"status": status}, staff=True, if_match=etag(order)
        )
        assert response.status == 200, response.body
        return response.json()  # type: ignore[no-any-return]

    def next_customer(self) -> str:
        return f"guest-{next(self.customers)}"


def with_faults_off(cafe: Cafe) -> None:
    cafe.a.faults.disarm()
    cafe.b.faults.disarm()


def order_body(customer: str) -> dict[str, Any]:
    return {"customer": customer, "items": [{"item_id": ITEM, "quantity": 1, "options": {}}]}


def etag(order: dict[str, Any]) -> str:
    return f'"{order["id"]}.{order["version"]}"'


@pytest.fixture(scope="module")
def session() -> boto3.session.Session:
    with mock.patch.dict(os.environ, DUMMY_ENVIRONMENT):
        return boto3.session.Session(region_name=REGION)


@pytest.fixture
def cafe(endpoint: str, session: boto3.session.Session) -> Iterator[Cafe]:
    table = f"cafe-faults-{uuid.uuid4().hex[:12]}"
    with mock.patch.dict(os.environ, DUMMY_ENVIRONMENT):
        a, b = Instance(table, endpoint, session), Instance(table, endpoint, session)
        create_table(a.store.client, table)
        yield Cafe(a, b)


# -- the operations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """One request to instance ``a`` after ``prepare``; ``expected`` is its fault-free status.

    ``prepare`` returns what the request needs; ``send`` makes it (the same request each time it
    is called with the same context); ``after`` checks what only this operation can know.
    """

    name: str
    prepare: Callable[[Cafe], dict[str, Any]]
    send: Callable[[Cafe, dict[str, Any]], Response]
    expected: int
    places: bool = False
    moves_to: str | None = None
    # Sent again even after a success (the same key or If-Match): it must answer the same way.
    # A placement without a key is retried only after a failure, as a client would.
    replayable: bool = True


def placement(keyed: bool) -> Operation:
    def prepare(cafe: Cafe) -> dict[str, Any]:
        return {"customer": cafe.next_customer(), "key": str(uuid.uuid4()) if keyed else None}

    def send(cafe: Cafe, context: dict[str, Any]) -> Response:
        headers = {"idempotency_key": context["key"]} if keyed else {}
        return cafe.a.call("POST", "/orders", order_body(context["customer"]), **headers)

    name = f"place ({'keyed' if keyed else 'no key'})"
    return Operation(name, prepare, send, 201, places=True, replayable=keyed)


def placement_after_queue_drained() -> Operation:
    """The queue cap's set is full of orders that left: the placement prunes it and retries."""

    def prepare(cafe: Cafe) -> dict[str, Any]:
        # Room for two more than wait now; they fill the set, then leave the queue.
        waiting = cafe.a.call("GET", "/store", staff=True).json()["waiting"]
        settings = {"open": True, "max_waiting": waiting + 2}
        assert cafe.a.call("PUT", "/store", settings, staff=True).status == 200
        for order in [cafe.place(cafe.b, cafe.next_customer()) for _ in range(2)]:
            cafe.move(cafe.b, cafe.move(cafe.b, order, "PREPARING"), "READY")
        return {"customer": cafe.next_customer(), "key": str(uuid.uuid4())}

    def send(cafe: Cafe, context: dict[str, Any]) -> Response:
        return cafe.a.call("POST", "/orders", order_body(context["customer"]), idempotency_key=context["key"])

    return Operation("place when the set of waiting ids must be pruned", prepare, send, 201, places=True)


def transition(name: str, path: list[str], target: str, *, seen: bool, customer: bool = False) -> Operation:
    """Move an order that went through ``path`` (by ``b``) to ``target`` through ``a``.

    ``seen``: ``a`` read the order before ``b`` moved it along ``path`` (so ``a``'s copy is
    stale whenever ``path`` is not empty).
    """

    def prepare(cafe: Cafe) -> dict[str, Any]:
        order = cafe.place(cafe.b, cafe.next_customer())
        if seen:
            assert cafe.a.call("GET", "/orders", staff=True).status == 200
        for status in path:
            order = cafe.move(cafe.b, order, status)
        return order

    def send(cafe: Cafe, order: dict[str, Any]) -> Response:
        if customer:
            return cafe.a.call("POST", f"/orders/{order['id']}/cancel", if_match=etag(order))
        return cafe.a.call(
            "POST", f"/orders/{order['id']}/status", {"status": target}, staff=True, if_match=etag(order)
        )

    return Operation(name, prepare, send, 200, moves_to=target)


def read(name: str, method: str, path: str, *, staff: bool = False, body: Any = None) -> Operation:
    def prepare(cafe: Cafe) -> dict[str, Any]:
        cafe.place(cafe.b, cafe.next_customer())
        return {}

    def send(cafe: Cafe, context: dict[str, Any]) -> Response:
        target = path.format(**context) if context else path
        return cafe.a.call(method, target, body, staff=staff)

    return Operation(name, prepare, send, 200)


def order_read() -> Operation:
    def prepare(cafe: Cafe) -> dict[str, Any]:
        return {"id": cafe.place(cafe.b, cafe.next_customer())["id"]}

    return Operation(
        "read an order", prepare, lambda cafe, context: cafe.a.call("GET", f"/orders/{context['id']}"), 200
    )


OPERATIONS = [
    placement(keyed=True),
    placement(keyed=False),
    placement_after_queue_drained(),
    transition("start an order a has not seen", [], "PREPARING", seen=False),
    transition("start an order a has seen", [], "PREPARING", seen=True),
    transition("finish an order a saw while it was PLACED", ["PREPARING"], "READY", seen=True),
    transition("hand over a ready order", ["PREPARING", "READY"], "COMPLETED", seen=False),
    transition("staff cancel", ["PREPARING"], "CANCELLED", seen=True),
    transition("customer cancel", [], "CANCELLED", seen=False, customer=True),
    order_read(),
    read("the queue", "GET", "/orders", staff=True),
    read("the pickup board", "GET", "/pickup"),
    read("the store", "GET", "/store", staff=True),
    read("the menu", "GET", "/menu"),
    read("open the store", "PUT", "/store", staff=True, body={"open": True, "max_waiting": 50}),
    read("sell out an item", "PATCH", "/menu/espresso", staff=True, body={"available": False}),
]


# -- the invariants -----------------------------------------------------------------------------


def check_answer(first: Response, operation: Operation, mode: Mode, where: str) -> None:
    assert first.status != 500, f"{where}: 500 {first.body!r}"
    if mode is Mode.ABSORBED:
        assert first.status == operation.expected, (
            f"{where}: a fault botocore absorbed changed the answer: {first.body!r}"
        )
    elif first.status != operation.expected:
        assert first.status == 503, f"{where}: {first.status} {first.body!r}"
        assert first.json()["error"]["code"] in ("unavailable", "store_busy"), where
        assert int(first.headers["Retry-After"]) > 0, where


def check_table(cafe: Cafe, where: str) -> None:
    orders = cafe.orders()
    numbers = Counter((order.business_day, order.number) for order in orders)
    assert max(numbers.values(), default=1) == 1, f"{where}: a pickup number was given twice"
    for order in orders:
        statuses = [change.status for change in order.history]
        assert len(statuses) == len(set(statuses)), f"{where}: order {order.number} went through {statuses}"
    store = cafe.a.call("GET", "/store", staff=True).json()
    assert store["waiting"] == sum(order.status.value in WAITING for order in orders), (
        f"{where}: waiting is wrong"
    )


def run_case(cafe: Cafe, operation: Operation, fault: Fault, mode: Mode, call: int) -> None:
    where = f"{operation.name}, {fault.value} ({mode.value}) at call {call}"
    context = operation.prepare(cafe)
    orders_before = len(cafe.orders()) if operation.places else 0
    placed_before = cafe.a.placed
    cafe.a.faults.arm(fault, mode, call)
    first = operation.send(cafe, context)
    injected = cafe.a.faults.injected
    with_faults_off(cafe)
    assert injected, f"{where}: the fault was never injected"
    check_answer(first, operation, mode, where)
    retry = (
        first
        if first.status == operation.expected and not operation.replayable
        else operation.send(cafe, context)
    )
    assert retry.status == operation.expected, f"{where}: the retry answered {retry.status} {retry.body!r}"
    if operation.places:
        orders = cafe.orders()
        stored = [order for order in orders if order.customer == context["customer"]]
        assert len(stored) == 1, f"{where}: {len(stored)} orders stored for one placement"
        assert len(orders) == orders_before + 1, where
        assert cafe.a.placed - placed_before == 1, (
            f"{where}: OrdersPlaced counted {cafe.a.placed - placed_before}"
        )
        if first.status == 201 and context["key"] is not None:
            assert retry.json()["id"] == first.json()["id"], f"{where}: the retry got another order"
    if operation.moves_to is not None:
        moved = retry.json()
        assert moved["status"] == operation.moves_to, where
        assert moved["version"] == context["version"] + 1, (
            f"{where}: applied {moved['version'] - context['version']} times"
        )
    check_table(cafe, where)


CASES = [
    pytest.param(operation, fault, mode, id=f"{operation.name}-{fault.name.lower()}-{mode.name.lower()}")
    for operation in OPERATIONS
    for fault in Fault
    # Only placements run a transaction, so only they can see one cancelled for throttling.
    if fault is not Fault.TRANSACTION_THROTTLED or operation.places
    for mode in Mode
]


@pytest.mark.parametrize(("operation", "fault", "mode"), CASES)
def test_every_call_of_the_operation_under_the_fault(
    cafe: Cafe, operation: Operation, fault: Fault, mode: Mode
) -> None:
    context = operation.prepare(cafe)
    cafe.a.faults.arm(None)
    assert operation.send(cafe, context).status == operation.expected
    calls = list(cafe.a.faults.calls)
    applicable = [index for index, name in enumerate(calls) if fault.applies_to(name)]
    assert applicable, f"{operation.name} makes no call {fault.value} can hit ({calls})"
    for call in applicable:
        run_case(cafe, operation, fault, mode, call)


# -- a copy seen earlier is a guess, never a reason to refuse ------------------------------------

FORWARD = {"PLACED": ["PREPARING", "CANCELLED"], "PREPARING": ["READY", "CANCELLED"], "READY": ["COMPLETED"]}


@pytest.mark.parametrize(
    "path", [[], ["PREPARING"], ["PREPARING", "READY"]], ids=["placed", "preparing", "ready"]
)
def test_an_instance_whose_copy_is_stale_never_refuses_what_the_table_allows(
    cafe: Cafe, path: list[str]
) -> None:
    for target in FORWARD[path[-1] if path else "PLACED"]:
        order = cafe.place(cafe.b, cafe.next_customer())
        assert cafe.a.call("GET", f"/orders/{order['id']}").status == 200  # a's copy: PLACED
        for status in path:
            order = cafe.move(cafe.b, order, status)
        response = cafe.a.call("POST", f"/orders/{order['id']}/status", {"status": target}, staff=True)
        assert response.status == 200, f"{path} → {target}: {response.body!r}"
        assert response.json()["version"] == order["version"] + 1


def test_a_refusal_rests_on_the_table_not_on_the_copy(cafe: Cafe) -> None:
    order = cafe.place(cafe.b, cafe.next_customer())
    assert cafe.a.call("GET", "/orders", staff=True).status == 200  # a's copy: PLACED
    cafe.move(cafe.b, order, "CANCELLED")
    refused = cafe.a.call("POST", f"/orders/{order['id']}/status", {"status": "PREPARING"}, staff=True)
    assert refused.status == 409
    assert refused.json()["error"]["details"]["status"] == "CANCELLED"

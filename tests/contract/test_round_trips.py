"""DynamoDB round trips per operation: a regression here is latency on AWS (issue 14's table).

The operations of ``bench/dynamodb_path.py`` run through the whole API against moto in this
process; ``cafe.stores.round_trips`` counts the requests botocore sends. The counts are exact:
a change that adds a request fails here, and one that saves a request updates this table.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from unittest import mock

import pytest
from moto import mock_aws

from bench.dynamodb_path import SCENARIOS, measure
from cafe.stores.round_trips import RoundTripCounter
from tests.contract.dynamodb_factory import DUMMY_ENVIRONMENT

# The DynamoDB requests one request of each operation sends, in order.
EXPECTED: dict[str, list[str]] = {
    "POST /orders with Idempotency-Key": ["GetItem", "UpdateItem", "TransactWriteItems"],
    "POST /orders, same key again after success": ["GetItem"],
    "POST /orders without a key": ["UpdateItem", "TransactWriteItems"],
    "POST /orders/{id}/status, order seen by this runtime": ["PutItem"],
    "POST /orders/{id}/status, order placed elsewhere": ["UpdateItem"],
    "POST /orders/{id}/status to READY, order moved elsewhere": ["UpdateItem"],
    "POST /orders/{id}/status to COMPLETED, order moved elsewhere": ["UpdateItem"],
    "POST /orders/{id}/cancel, order seen by this runtime": ["PutItem"],
    "POST /orders/{id}/cancel, order placed elsewhere": ["UpdateItem"],
    "GET /orders?status=PLACED,PREPARING (queue)": ["Query"],
    "GET /pickup": ["Query"],
    "GET /menu": ["GetItem"],
    "GET /orders/{id}": ["GetItem"],
}


@pytest.fixture(scope="module")
def moto() -> Iterator[None]:
    with mock.patch.dict(os.environ, {**DUMMY_ENVIRONMENT, "POWERTOOLS_LOG_LEVEL": "WARNING"}), mock_aws():
        yield


def test_every_benchmarked_operation_has_an_expected_count() -> None:
    assert [scenario.name for scenario in SCENARIOS] == list(EXPECTED)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[scenario.name for scenario in SCENARIOS])
def test_round_trips_per_operation(moto: None, scenario, capsys) -> None:  # type: ignore[no-untyped-def]
    measured = measure(scenario, endpoint=None, n=3)
    assert measured.operations == EXPECTED[scenario.name]
    assert measured.round_trips == len(EXPECTED[scenario.name])  # every request, not only the first


def test_the_counter_counts_each_attempt_and_detaches(moto: None) -> None:
    import boto3

    client = boto3.client("dynamodb", region_name="us-east-1")
    table = f"t-{uuid.uuid4().hex[:8]}"
    with RoundTripCounter.attached(client) as trips:
        client.list_tables()
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.describe_table(TableName=table)
    client.list_tables()
    assert trips.operations == ["ListTables", "DescribeTable"]
    assert trips.by_operation() == {"ListTables": 1, "DescribeTable": 1}
    assert trips.total == 2


# The AWS projection's operations (compare/aws_model overheads, "dynamodb.round_trips") and the
# scenario each one is counted as here: cancel and advance as for an order this process has not
# seen (one UpdateItem, as every advance of such an order is).
MODEL_OPERATIONS = {
    "menu": "GET /menu",
    "place_order": "POST /orders with Idempotency-Key",
    "poll": "GET /orders/{id}",
    "barista_list": "GET /orders?status=PLACED,PREPARING (queue)",
    "cancel": "POST /orders/{id}/cancel, order placed elsewhere",
    "advance": "POST /orders/{id}/status to READY, order moved elsewhere",
    "pickup": "GET /pickup",
}
# The operations the load generator adds that bench/dynamodb_path.py does not run: GET /store's
# calls are held to the code by tests/cost/test_traffic.py (compare.cost.dynamodb_units.CALLS); the
# pages, their files and /health make none.
OTHER_OPERATIONS = {"store": "GET /store", "static": None, "health": None}


def test_the_aws_models_round_trips_are_the_codes() -> None:
    from collections import Counter

    from compare.aws_model import overheads
    from compare.cost.dynamodb_units import CALLS

    model = overheads.load().figures["dynamodb.round_trips"].value
    assert set(model) == set(MODEL_OPERATIONS) | set(OTHER_OPERATIONS)
    for operation, scenario in MODEL_OPERATIONS.items():
        assert Counter(model[operation]) == Counter(EXPECTED[scenario]), operation
    for operation, route in OTHER_OPERATIONS.items():
        assert model[operation] == (CALLS[route] if route else {}), operation

"""The deployed store path's probe: a moto server in its own process, one fresh table, and the
round trips each operation of the café mix makes through the whole shared API."""

from __future__ import annotations

from pathlib import Path

import pytest

from compare.probes.dynamodb import moto_dynamodb, round_trips

pytestmark = pytest.mark.live


def test_round_trips_per_operation_through_the_shared_api(tmp_path: Path) -> None:
    with moto_dynamodb(tmp_path) as endpoint:
        assert endpoint.store_env()["CAFE_STORE"] == "dynamodb"
        counts = round_trips(endpoint)
    # The goals of issue 14, as the comparison reports them (the store's own tests pin them exactly).
    assert counts["POST /orders (Idempotency-Key)"] <= 3
    assert counts["POST /orders (same key again)"] == 1
    assert counts["POST /orders (no key)"] <= 2
    assert counts["GET /menu"] == counts["GET /orders/{id}"] == 1
    assert counts["GET /orders?status= (queue)"] == counts["GET /pickup"] == 1
    assert counts["POST /orders/{id}/status"] == counts["POST /orders/{id}/cancel"] == 1


def test_the_hop_a_boto3_client_makes_beyond_the_delayed_store_s_hold(tmp_path: Path) -> None:
    """What the delayed store takes off each draw: measured from a boto3 client, less its CPU."""
    import asyncio

    from compare.probes.dynamodelay import client_hop_ms, read_stats

    with moto_dynamodb(tmp_path, delayed=True) as endpoint:
        hop = client_hop_ms(endpoint.url, endpoint.table, calls=40)
        stats = asyncio.run(read_stats(endpoint.url))
    # The measured calls were held for their draws (GetItem's median is 4 ms in the overheads file),
    # and the hop beyond that hold on loopback is a fraction of one draw, never negative.
    assert stats.by_operation["GetItem"].calls == 40
    assert stats.by_operation["GetItem"].actual_p50_ms > 1.0
    assert 0.0 <= hop < stats.by_operation["GetItem"].actual_p50_ms

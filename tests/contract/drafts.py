"""New, unnumbered orders for the store tests (stores take orders as the service drafts them)."""

from __future__ import annotations

from datetime import UTC, datetime

from cafe.domain.menu import LocalizedName
from cafe.domain.orders import Order, OrderLine, Status, StatusChange, new_order_id

T0 = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)


def draft(day: str = "2026-11-26", at: datetime = T0, customer: str = "Kim", quantity: int = 1) -> Order:
    """A PLACED americano order (4,500 KRW a cup) of ``quantity`` cups."""
    line = OrderLine(
        "americano", LocalizedName("아메리카노", "Americano"), quantity, {"size": "regular"}, 4500
    )
    return Order(
        id=new_order_id(),
        customer=customer,
        lines=(line,),
        currency="KRW",
        business_day=day,
        history=(StatusChange(Status.PLACED, at),),
    )

"""The checked-in census (compare/cost/census.json) against the pages' own source, without a browser.

The cost model prices what the census counted; the census counted what the pages did when it was
made, polling (push unavailable) and following a stream (push). These checks read the pages'
polling intervals, API calls, static files, the channel each follows and the WebSocket ping from
shared/cafe/web/static and fail when the pages no longer match the census: an interval changed,
a route added or dropped, a static file added, a channel or the ping changed. The fix is to rerun
`make census`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from compare.census import CENSUS_PATH, CENSUS_VERSION, pagejs
from compare.census.routes import STREAM_ROUTE
from compare.census.scenarios import UNEXERCISED

RERUN = (
    "the pages changed since the census was taken: run `make census` and check in compare/cost/census.json"
)
# Chromium fetches the favicon once more as the tab's icon on every page load, and the customer
# page again when it moves to #order=<id> (a same-document navigation): seen by the census.
TAB_ICON_FETCHES = {"customer": 2, "barista": 1, "board": 1}


@pytest.fixture(scope="module")
def census() -> dict[str, Any]:
    return dict(json.loads(CENSUS_PATH.read_text()))


def routes_of(section: dict[str, Any], page: str) -> set[str]:
    return {route for figures in section[page].values() for route in figures}


def test_the_census_has_the_shape_the_cost_model_reads(census: dict[str, Any]) -> None:
    assert census["census_version"] == CENSUS_VERSION
    assert set(census) == {
        "census_version",
        "provenance",
        "mode",
        "intervals_s",
        "customer",
        "barista",
        "board",
        "by_status",
        "scenarios",
        "push",
    }
    assert census["mode"] == "polling"
    assert set(census["push"]) == {
        "transport",
        "runtime",
        "how",
        "intervals_s",
        "customer",
        "barista",
        "board",
        "streams",
        "feed_changes_per_order",
        "heartbeat_s",
        "websocket_ping_s",
        "by_status",
        "scenarios",
    }
    assert census["push"]["transport"] == "sse" and "GET /live answers sse" in census["push"]["runtime"]
    assert "GET /live answers none" in census["provenance"]["runtime"]
    assert set(census["provenance"]) == {
        "command",
        "browser",
        "playwright",
        "git_revision",
        "date",
        "runtime",
    }
    assert census["provenance"]["command"] == "make census"
    assert set(census["intervals_s"]) == {"tracking_visible", "tracking_hidden", "barista", "board", "health"}
    assert set(census["customer"]) == {"per_order", "per_visible_minute", "per_hidden_minute"}
    assert set(census["barista"]) == {"per_open", "per_open_hour", "per_order"}
    assert set(census["board"]) == {"per_open", "per_open_hour"}
    assert [s["name"] for s in census["scenarios"]] == [
        "customer-visible",
        "customer-hidden",
        "barista",
        "board",
    ]


def test_the_polling_intervals_are_the_pages_own(census: dict[str, Any]) -> None:
    measured = census["intervals_s"]
    customer = pagejs.page("customer")
    in_source = {
        "tracking_visible": customer.poll_ms / 1000,
        "tracking_hidden": customer.poll_ms * pagejs.hidden_factor() / 1000,
        "barista": pagejs.page("barista").poll_ms / 1000,
        "board": pagejs.page("board").poll_ms / 1000,
        "health": pagejs.health_ms() / 1000,
    }
    drifted = {k: (measured[k], v) for k, v in in_source.items() if measured[k] != pytest.approx(v, rel=0.01)}
    assert not drifted, f"interval (census, page source) differs: {drifted}; {RERUN}"


@pytest.mark.parametrize("page", list(pagejs.PAGES))
def test_every_route_the_page_calls_is_counted_or_named_as_left_out(
    census: dict[str, Any], page: str
) -> None:
    source = pagejs.page(page)
    counted = routes_of(census, page)  # polling: every view the page reads, every tick
    missing = source.api_routes - counted - set(UNEXERCISED)
    assert not missing, f"{page} page calls {sorted(missing)}, which the census did not count; {RERUN}"
    gone = counted - source.api_routes - {source.page_route, "GET /static/{name}"}
    assert not gone, (
        f"the census counts {sorted(gone)} for the {page} page, which no longer calls it; {RERUN}"
    )
    left_out = set(UNEXERCISED) & counted
    assert not left_out, f"{sorted(left_out)} are counted now: drop them from scenarios.UNEXERCISED"


@pytest.mark.parametrize("page", list(pagejs.PAGES))
def test_the_static_files_are_the_pages_own(census: dict[str, Any], page: str) -> None:
    source = pagejs.page(page)
    opening = census[page]["per_order" if page == "customer" else "per_open"]
    expected = len(source.static_files) + TAB_ICON_FETCHES[page]
    assert opening["GET /static/{name}"] == expected, (
        f"the {page} page loads {sorted(source.static_files)} (+{TAB_ICON_FETCHES[page]} tab icon fetches) "
        f"= {expected} static requests; the census counted {opening['GET /static/{name}']}; {RERUN}"
    )
    assert opening[source.page_route] == 1


def test_the_rates_follow_from_the_intervals(census: dict[str, Any]) -> None:
    """The counted rates agree with the measured intervals (a census edited by hand would not)."""
    iv = census["intervals_s"]
    visible = census["customer"]["per_visible_minute"]
    assert visible["GET /orders/{order_id}"] == pytest.approx(60 / iv["tracking_visible"], rel=0.02)
    # Hidden: the visible-interval tick already scheduled and the tick on coming back add a little.
    hidden = census["customer"]["per_hidden_minute"]
    assert hidden["GET /orders/{order_id}"] == pytest.approx(60 / iv["tracking_hidden"], rel=0.15)
    assert census["board"]["per_open_hour"]["GET /pickup"] == pytest.approx(3600 / iv["board"], rel=0.02)
    for screen in ("barista", "board"):
        assert census[screen]["per_open_hour"]["GET /health"] == pytest.approx(3600 / iv["health"], rel=0.02)
    barista = census["barista"]["per_open_hour"]
    ticks = 3600 / iv["barista"]
    assert barista["GET /store"] == pytest.approx(ticks, rel=0.02)
    assert barista["GET /orders"] / ticks == pytest.approx(round(barista["GET /orders"] / ticks), rel=0.02)


def test_by_status_covers_every_scenario_request(census: dict[str, Any]) -> None:
    total = sum(n for statuses in census["by_status"].values() for n in statuses.values())
    assert total == sum(r["count"] for s in census["scenarios"] for r in s["requests"])
    assert "304" in census["by_status"]["GET /orders/{order_id}"]
    assert "304" in census["by_status"]["GET /pickup"]


@pytest.mark.parametrize("page", list(pagejs.PAGES))
def test_push_removes_the_polls_and_counts_only_what_the_page_calls(
    census: dict[str, Any], page: str
) -> None:
    push = census["push"]
    source = pagejs.page(page)
    counted = routes_of(push, page)
    gone = counted - source.api_routes - {source.page_route, "GET /static/{name}", STREAM_ROUTE}
    assert not gone, f"push: the census counts {sorted(gone)} for the {page} page; {RERUN}"
    # Following a stream, the page sends nothing on a timer but its footer's /health...
    periodic = push[page]["per_visible_minute" if page == "customer" else "per_open_hour"]
    assert set(periodic) == {"GET /health"}, f"the {page} page still polls by push: {periodic}; {RERUN}"
    # ...and opens its stream once, where polling reads its view.
    opening = push[page]["per_order" if page == "customer" else "per_open"]
    assert (
        opening[STREAM_ROUTE] == push["streams"][page]["per_order" if page == "customer" else "per_open"] == 1
    )
    assert STREAM_ROUTE not in routes_of(census, page)


@pytest.mark.parametrize("page", list(pagejs.PAGES))
def test_each_page_follows_its_own_channel(census: dict[str, Any], page: str) -> None:
    stream = census["push"]["streams"][page]
    assert stream["channel"] == pagejs.page(page).channel, RERUN
    share = stream["held_share_of_tracking" if page == "customer" else "held_share_of_open"]
    assert 0.95 <= share <= 1.0  # held while the page follows, not a moment less or more
    assert stream["messages_on_subscribe"] == 1  # the current state, once


def test_the_messages_follow_from_the_feeds_changes(census: dict[str, Any]) -> None:
    """A census edited by hand would not: the tracking page subscribes after its own placement, so it
    hears every change but that one; the queue hears every change; the board those that move an
    order onto, along or off it (not the placement)."""
    push = census["push"]
    changes = push["feed_changes_per_order"]
    streams = push["streams"]
    assert changes >= 4  # placement, PREPARING, READY, COMPLETED
    assert streams["customer"]["messages_per_order"] == changes - 1
    assert streams["barista"]["messages_per_order"] == changes
    assert streams["board"]["messages_per_order"] == changes - 1


def test_the_derived_push_figures_are_the_servers_and_the_pages(census: dict[str, Any]) -> None:
    from cafe.live.hub import HEARTBEAT_SECONDS

    push = census["push"]
    assert push["heartbeat_s"] == HEARTBEAT_SECONDS, RERUN
    assert push["websocket_ping_s"] == pagejs.websocket_ping_ms() / 1000, RERUN
    # Which figures are counted and which derived: the census says so itself.
    assert "counted" in push["how"]["streams"] and "derived" in push["how"]["heartbeat_s"]
    assert "source" in push["how"]["websocket_ping_s"]


def test_a_changed_ping_or_channel_fails(
    census: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(
        pagejs,
        "STATIC",
        edited_copy(
            tmp_path / "a", "api.js", "WEBSOCKET_PING_MS = 5 * 60 * 1000", "WEBSOCKET_PING_MS = 60 * 1000"
        ),
    )
    with pytest.raises(AssertionError, match="run `make census`"):
        test_the_derived_push_figures_are_the_servers_and_the_pages(census)
    monkeypatch.setattr(
        pagejs,
        "STATIC",
        edited_copy(tmp_path / "b", "board.js", 'query: "channel=board"', 'query: "channel=queue"'),
    )
    with pytest.raises(AssertionError, match="run `make census`"):
        test_each_page_follows_its_own_channel(census, "board")


@pytest.mark.parametrize(
    ("module", "old", "new"),
    [
        ("customer.js", "const POLL_MS = 2500;", "const POLL_MS = 2000;"),
        ("api.js", "hiddenMs = everyMs * 5", "hiddenMs = everyMs * 4"),
        ("ui.js", "setInterval(refreshHealth, 60000)", "setInterval(refreshHealth, 30000)"),
        ("board.js", "const POLL_MS = 3000;", "const POLL_MS = 5000;"),
    ],
)
def test_a_changed_interval_fails(
    census: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, module: str, old: str, new: str
) -> None:
    monkeypatch.setattr(pagejs, "STATIC", edited_copy(tmp_path, module, old, new))
    with pytest.raises(AssertionError, match="run `make census`"):
        test_the_polling_intervals_are_the_pages_own(census)


def test_a_new_route_or_static_file_fails(
    census: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    call = 'await api("/openapi.json");\n'
    monkeypatch.setattr(
        pagejs,
        "STATIC",
        edited_copy(
            tmp_path / "a", "board.js", "async function refresh() {\n", "async function refresh() {\n" + call
        ),
    )
    with pytest.raises(AssertionError, match=r"GET /openapi\.json.*run `make census`"):
        test_every_route_the_page_calls_is_counted_or_named_as_left_out(census, "board")
    extra = '<link rel="stylesheet" href="static/board.css">\n'
    monkeypatch.setattr(
        pagejs, "STATIC", edited_copy(tmp_path / "b", "board.html", "<title>", extra + "<title>")
    )
    with pytest.raises(AssertionError, match="run `make census`"):
        test_the_static_files_are_the_pages_own(census, "board")


def edited_copy(tmp_path: Path, module: str, old: str, new: str) -> Path:
    static = tmp_path / "static"
    shutil.copytree(pagejs.STATIC, static)
    text = (static / module).read_text()
    assert old in text, f"{module} no longer contains {old!r}: update this test"
    (static / module).write_text(text.replace(old, new, 1))
    return static

"""What the pages' source says they request, read without a browser (for the drift test).

For each page (customer, barista, board): the static files its HTML and its modules' imports load,
the API routes its modules call (``api(`/orders/${id}`, {method: "POST"})`` → ``POST
/orders/{order_id}``), the polling intervals (``poll(fn, POLL_MS)``, ``poll``'s hidden-tab
factor in api.js, the footer's ``setInterval(refreshHealth, …)`` in ui.js), the channel it follows
by push (``follow({query: "channel=board", …})``) and the WebSocket ping interval of api.js. A call
this reader cannot resolve to a literal is an error, not a skip: the test must see every call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from compare.census import ROOT
from compare.census.routes import route_key

STATIC = ROOT / "shared" / "cafe" / "web" / "static"
PAGES = {
    "customer": ("index.html", "GET /"),
    "barista": ("barista.html", "GET /barista"),
    "board": ("board.html", "GET /board"),
}

_CONST = re.compile(r"\bconst\s+([A-Z_][A-Z0-9_]*)\s*=\s*(\d+)\s*;")
_PRODUCT = re.compile(r"\bconst\s+WEBSOCKET_PING_MS\s*=\s*(\d+(?:\s*\*\s*\d+)*)\s*;")
_FOLLOW_QUERY = re.compile(r"""\bquery\s*:\s*[`"']([a-z_]+)=([^`"'&]*)""")
_IMPORT = re.compile(r"""\bimport\b[^;]*?\bfrom\s+["']\./([\w.-]+)["']""")
_HTML_STATIC = re.compile(r"""(?:src|href)="static/([\w.-]+)\"""")
_HIDDEN_FACTOR = re.compile(r"function\s+poll\s*\(\s*\w+\s*,\s*(\w+)\s*,\s*\w+\s*=\s*\1\s*\*\s*(\d+)\s*\)")
_HEALTH = re.compile(r"setInterval\(\s*refreshHealth\s*,\s*(\w+)\s*\)")
_METHOD = re.compile(r"""\bmethod\s*:\s*["'](\w+)["']""")
_COMMENTS = re.compile(r"/\*.*?\*/|(?<![:\\\"'])//[^\n]*", re.DOTALL)


class PageSourceError(ValueError):
    """The page source does something this reader cannot check statically."""


@dataclass(frozen=True)
class PageSource:
    name: str
    page_route: str
    static_files: frozenset[str]
    api_routes: frozenset[str]
    poll_ms: int
    channel: str  # what it follows by push: "order", "board" or "queue"


def _call_args(text: str, open_paren: int) -> list[str]:
    """The top-level arguments of the call whose ``(`` is at ``open_paren``."""
    depth, start, args, i, quote = 0, open_paren + 1, [], open_paren, ""
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'`":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                args.append(text[start:i].strip())
                return [a for a in args if a]
        elif c == "," and depth == 1:
            args.append(text[start:i].strip())
            start = i + 1
        i += 1
    raise PageSourceError(f"unbalanced call at {text[open_paren : open_paren + 60]!r}")


def source(name: str) -> str:
    """A module's text without its comments (a comment may name a call it does not make)."""
    return _COMMENTS.sub("", (STATIC / name).read_text())


def _calls(text: str, name: str) -> list[list[str]]:
    return [_call_args(text, m.end() - 1) for m in re.finditer(rf"(?<![\w.]){name}\(", text)]


def _number(expr: str, consts: dict[str, int], where: str) -> int:
    if expr.isdigit():
        return int(expr)
    if expr in consts:
        return consts[expr]
    raise PageSourceError(f"{where}: {expr!r} is not a number or a const of the file")


def _path_of(literal: str, where: str) -> str:
    if len(literal) < 2 or literal[0] not in "\"'`" or literal[-1] != literal[0]:
        raise PageSourceError(f"{where}: api() called with {literal!r}, not a literal path")
    return re.sub(r"\$\{[^}]*\}", "x", literal[1:-1]).split("?", 1)[0]


def _modules(entry: str) -> list[str]:
    seen: list[str] = []
    todo = [entry]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.append(name)
        todo += _IMPORT.findall(source(name))
    return seen


def _api_routes(module: str, literal_only: bool = False) -> set[str]:
    """The routes ``module`` calls through api(); ``literal_only`` skips calls whose path is not a
    literal (api.js's own definition and helpers pass a variable through)."""
    text = source(module)
    routes = set()
    for args in _calls(text, "api"):
        if literal_only and not args[0].strip().startswith(("'", '"', "`")):
            continue
        method = _METHOD.search(args[1]) if len(args) > 1 else None
        routes.add(route_key(method.group(1) if method else "GET", _path_of(args[0], module)))
    return routes


def page(name: str) -> PageSource:
    html_name, page_route = PAGES[name]
    html = (STATIC / html_name).read_text()
    refs = set(_HTML_STATIC.findall(html))
    entries = [r for r in refs if r.endswith(".js")]
    if len(entries) != 1:
        raise PageSourceError(f"{html_name}: expected one module script, found {entries}")
    modules = _modules(entries[0])
    entry_text = source(entries[0])
    consts = {k: int(v) for k, v in _CONST.findall(entry_text)}
    polls = _calls(entry_text, "poll")
    if len(polls) != 1 or len(polls[0]) != 2:
        raise PageSourceError(f"{entries[0]}: expected one poll(fn, interval) call, found {polls}")
    return PageSource(
        name=name,
        page_route=page_route,
        static_files=frozenset(refs | set(modules)),
        api_routes=frozenset(
            {r for m in modules if m != "api.js" for r in _api_routes(m)}
            # follow() (keep a view current by push, else by polling) asks api.js's own calls: /live
            | (
                _api_routes("api.js", literal_only=True)
                if any(_calls(source(m), "follow") for m in modules if m != "api.js")
                else set()
            )
        ),
        poll_ms=_number(polls[0][1], consts, entries[0]),
        channel=_followed(entry_text, entries[0]),
    )


def _followed(text: str, where: str) -> str:
    """The channel of the page's one ``follow({query: …})``: an order id, or ``channel=<name>``."""
    found = [_FOLLOW_QUERY.search(args[0]) for args in _calls(text, "follow")]
    if len(found) != 1 or found[0] is None:
        raise PageSourceError(f"{where}: expected one follow({{query: ...}}) call with a literal query")
    name, value = found[0].groups()
    if name == "order_id":
        return "order"
    if name == "channel" and value:
        return value
    raise PageSourceError(f"{where}: follow() query {name}={value!r} is not an order id or a channel")


def websocket_ping_ms() -> int:
    """How often a page pings its WebSocket (api.js ``WEBSOCKET_PING_MS``): API Gateway closes a
    connection idle for 10 minutes, and every ping is a metered message each way."""
    found = _PRODUCT.search(source("api.js"))
    if not found:
        raise PageSourceError("api.js: const WEBSOCKET_PING_MS = <number or product of numbers>; not found")
    product = 1
    for factor in found.group(1).split("*"):
        product *= int(factor)
    return product


def hidden_factor() -> int:
    """``poll``'s default hidden-tab interval as a multiple of the visible one (api.js)."""
    found = _HIDDEN_FACTOR.search(source("api.js"))
    if not found:
        raise PageSourceError("api.js: poll(fn, everyMs, hiddenMs = everyMs * N) not found")
    return int(found.group(2))


def health_ms() -> int:
    """The footer's /health interval (ui.js ``setInterval(refreshHealth, N)``)."""
    text = source("ui.js")
    found = _HEALTH.search(text)
    if not found:
        raise PageSourceError("ui.js: setInterval(refreshHealth, N) not found")
    return _number(found.group(1), {k: int(v) for k, v in _CONST.findall(text)}, "ui.js")

"""Lambda pricing: requests, tiered GB-seconds (invoke + INIT), free tier and the API in front,
and in push mode API Gateway's WebSocket API with its handlers (``push_lambda``).

Chalice puts a REST API Gateway in front; HTTP API and function URLs are what-ifs.
"""

from __future__ import annotations

from compare.cost import push_lambda
from compare.cost.items import LineItem, RuntimeCost, line, tiered_lines
from compare.cost.live import STREAM_ROUTE
from compare.cost.network import log_lines
from compare.cost.observability import emf_metric_lines, log_storage_line, xray_lines
from compare.cost.prices import PriceBook
from compare.cost.profile import Profile
from compare.cost.sizing import peak_rps

API_NAMES = {"rest": "API Gateway REST API", "http": "API Gateway HTTP API"}


def gb_seconds(requests: float, billed_ms: float, memory_mb: float) -> float:
    """requests × billed seconds × GB (memory_mb / 1024: 512 MB is 0.5 GB)."""
    return requests * billed_ms / 1000.0 * memory_mb / 1024.0


def estimate(
    profile: Profile,
    book: PriceBook,
    memory_mb: float | None = None,
    avg_billed_ms: float | None = None,
    api: str | None = None,
) -> RuntimeCost:
    cfg = profile.lambda_
    inp = profile.inputs
    memory = cfg.memory_mb if memory_mb is None else memory_mb
    billed = cfg.avg_billed_ms if avg_billed_ms is None else avg_billed_ms
    api = cfg.api if api is None else api
    push = push_lambda.quantities(profile) if profile.traffic.live is not None else None
    # The pages' HTTP requests reach the function through the REST API; in push mode the stream
    # itself is API Gateway's WebSocket connection instead of a GET, and each reconnection after
    # its 2 h limit resynchronises the page with one refresh.
    requests = profile.monthly_requests
    if push is not None:
        requests += sum(push.resync_by_route.values()) - profile.traffic.by_route.get(STREAM_ROUTE, 0.0)
    dur_basis = "modeled (memory sweep)" if avg_billed_ms is not None else inp.label("lambda.avg_billed_ms")

    invoke = gb_seconds(requests, billed, memory)
    cold = requests * cfg.cold_start_fraction
    init = gb_seconds(cold, cfg.init_ms, memory)
    duration = book.tiered(f"lambda.duration.{cfg.arch}")
    req_price = book.price("lambda.requests")

    items: list[LineItem] = [line("Lambda requests", requests, req_price, inp.label("monthly_requests"))]
    parts = [
        (f", invoke ({billed:g} ms billed)", invoke),
        (f", INIT billed since Aug 2025 ({cfg.cold_start_fraction:.2%} cold × {cfg.init_ms:g} ms)", init),
    ]
    push_gbs = 0.0
    if push is not None:
        handlers = sum(push.invocations.values())
        items.append(
            line(
                "Lambda requests: WebSocket $connect/$default/$disconnect and the stream handler",
                handlers,
                req_price,
                f"modeled: {push.basis['streams']}; {push.basis['stream batches']}",
            )
        )
        parts += [(f", {name}", gbs) for name, gbs in push.gb_seconds.items()]
        push_gbs = sum(push.gb_seconds.values())
    items += tiered_lines(f"Lambda duration {cfg.arch} {memory:g} MB", parts, duration, dur_basis)
    if cfg.savings_plan != "none":
        plan = book.discount(f"lambda.{cfg.savings_plan.replace('-', '_')}")
        gross = sum(i.usd for i in items if i.name.startswith("Lambda duration"))
        items.append(
            LineItem(
                f"Compute Savings Plan on Lambda duration ({plan.fraction:.0%} off)",
                -gross,
                "USD of duration",
                plan.fraction,
                f"{plan.basis}; modeled",
            )
        )
    if profile.free_tier:
        handled = requests + (sum(push.invocations.values()) if push is not None else 0.0)
        free_req = min(handled, book.free_tier("lambda.requests"))
        free_gbs = min(invoke + init + push_gbs, book.free_tier("lambda.gb_s"))
        items.append(line("Lambda free tier: 1 M requests", -free_req, req_price))
        first = duration.tiers[0]
        items.append(
            LineItem("Lambda free tier: 400,000 GB-s", -free_gbs, duration.unit, first.usd, duration.label())
        )
    if api in API_NAMES:
        items += tiered_lines(API_NAMES[api], [(" requests", requests)], book.tiered(f"apigw.{api}.requests"))
    if push is not None:
        items += push_lines(push, book)
    items += log_lines(profile, book, cfg.log_bytes_per_request, "Lambda incl. START/END/REPORT lines")
    if cfg.log_bytes_per_request > 0:
        items.append(
            log_storage_line(profile, book, cfg.log_bytes_per_request, cfg.log_retention_days, "Lambda")
        )
    if cfg.emf_metrics:
        items += emf_metric_lines(profile, book)
    if cfg.xray:
        items += xray_lines(profile, book)

    concurrency = peak_rps(profile) * billed / 1000.0
    notes = [
        f"peak concurrency ≈ {concurrency:.3g} (peak req/s × duration; modeled)",
        "INIT duration is billed for on-demand ZIP functions on managed runtimes since 1 Aug 2025",
    ]
    if api == "url":
        notes.append("Lambda function URL: no extra charge (Chalice cannot create one: chalice #1913)")
    if api == "http":
        notes.append("HTTP API is a what-if: Chalice creates REST APIs only (chalice #1321, #1880)")
    warnings: list[str] = []
    if profile.free_tier:
        notes.append("free tier applied: it is per account, so it covers only one workload")
    sizing = {
        "memory_mb": memory,
        "avg_billed_ms": billed,
        "gb_seconds": round(invoke + init + push_gbs, 3),
        "peak_concurrency": round(concurrency, 4),
        "label": "modeled",
    }
    if push is not None:
        sizing["push"] = push.to_dict()
        if push.stream_busy_peak >= 1:
            warnings.append(
                f"push: the stream handler would be busy {push.stream_busy_peak:.1f}× the busiest hour's "
                "time (one batch at a time per shard, one post per subscriber in turn): it falls behind; "
                "post concurrently or raise the event source mapping's ParallelizationFactor"
            )
        notes.append(
            "push: API Gateway's WebSocket API holds the connections (2 h at most, 10 min idle: the "
            "pages ping); the stream handler posts each change (its stream reads are free)"
        )
    return RuntimeCost(
        runtime="lambda",
        option=f"{cfg.arch} {memory:g} MB, {api}",
        items=items,
        notes=notes,
        warnings=warnings,
        sizing=sizing,
    )


def push_lines(push: push_lambda.LambdaPush, book: PriceBook) -> list[LineItem]:
    """API Gateway's WebSocket API, the connections table, the handlers' reads and the stream."""
    items = tiered_lines(
        "API Gateway WebSocket messages",
        [
            (" received (subscriptions, pings)", push.messages_in),
            (" sent (current state, changes, pongs)", push.messages_out),
        ],
        book.tiered("apigw.websocket.messages"),
        f"modeled: {push.basis['messages']}; {push.basis['pings']}",
    )
    read, write = book.price("dynamodb.ondemand.read"), book.price("dynamodb.ondemand.write")
    items += [
        line(
            "API Gateway WebSocket connection minutes",
            push.connection_minutes,
            book.price("apigw.websocket.connection_minutes"),
            f"modeled: {push.basis['streams']}",
        ),
        line(
            "DynamoDB connections table writes (subscribe, a view's first change, $disconnect)",
            push.table_writes,
            write,
            f"modeled: {push.basis['table calls']}",
        ),
        line(
            "DynamoDB connections table reads (the stream handler's subscriber lookups, $disconnect)",
            push.table_reads,
            read,
            f"modeled: {push.basis['table calls']}",
        ),
        line(
            "DynamoDB reads by the handlers (the board and queue after each batch, resubscriptions, resyncs)",
            push.order_reads,
            read,
            "modeled: the hub's reads (LIVE_CALLS, held to the code) × batches and reconnections",
        ),
        line(
            "DynamoDB Streams GetRecords by the stream handler's event source mapping (free)",
            push.stream_polls,
            book.price("dynamodb.streams.read_request.lambda_trigger"),
            f"modeled: {push.basis['stream batches']}",
        ),
    ]
    return items

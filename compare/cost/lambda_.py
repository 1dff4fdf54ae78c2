"""Lambda pricing: requests, tiered GB-seconds (invoke + INIT), free tier and the API in front.

Chalice puts a REST API Gateway in front; HTTP API and function URLs are what-ifs.
"""

from __future__ import annotations

from compare.cost.items import LineItem, RuntimeCost, line, tiered_lines
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
    requests = profile.monthly_requests
    dur_basis = "modeled (memory sweep)" if avg_billed_ms is not None else inp.label("lambda.avg_billed_ms")

    invoke = gb_seconds(requests, billed, memory)
    cold = requests * cfg.cold_start_fraction
    init = gb_seconds(cold, cfg.init_ms, memory)
    duration = book.tiered(f"lambda.duration.{cfg.arch}")
    req_price = book.price("lambda.requests")

    items: list[LineItem] = [line("Lambda requests", requests, req_price, inp.label("monthly_requests"))]
    items += tiered_lines(
        f"Lambda duration {cfg.arch} {memory:g} MB",
        [
            (f", invoke ({billed:g} ms billed)", invoke),
            (f", INIT billed since Aug 2025 ({cfg.cold_start_fraction:.2%} cold × {cfg.init_ms:g} ms)", init),
        ],
        duration,
        dur_basis,
    )
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
        free_req = min(requests, book.free_tier("lambda.requests"))
        free_gbs = min(invoke + init, book.free_tier("lambda.gb_s"))
        items.append(line("Lambda free tier: 1 M requests", -free_req, req_price))
        first = duration.tiers[0]
        items.append(
            LineItem("Lambda free tier: 400,000 GB-s", -free_gbs, duration.unit, first.usd, duration.label())
        )
    if api in API_NAMES:
        items += tiered_lines(API_NAMES[api], [(" requests", requests)], book.tiered(f"apigw.{api}.requests"))
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
    return RuntimeCost(
        runtime="lambda",
        option=f"{cfg.arch} {memory:g} MB, {api}",
        items=items,
        notes=notes,
        warnings=warnings,
        sizing={
            "memory_mb": memory,
            "avg_billed_ms": billed,
            "gb_seconds": round(invoke + init, 3),
            "peak_concurrency": round(concurrency, 4),
            "label": "modeled",
        },
    )

"""The workload profile: what the café does and how each runtime is configured.

A profile may give every input explicitly (a what-if with no measurement) or take figures from the
latency tool; each value remembers where it came from ("profile", "measured here", "measured on
AWS" through the profile's `provenance` map, or "default (assumed)") so the output can label it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cafe.domain.settings import DEFAULT_MAX_WAITING
from compare.cost import deployed
from compare.cost.dynamodb_units import Queue
from compare.cost.traffic import (
    CENSUS,
    MODES,
    PUSH,
    Assumed,
    CafeShape,
    Census,
    CensusError,
    Traffic,
    derive,
    load_census,
)
from compare.local.runtimes import RUNTIMES

PROFILE = "profile"
DEFAULT = "default (assumed)"
PROJECTED = "projected (modeled from measured inputs)"  # an AWS latency projected by compare.aws_model
# A deployed-path capacity from make compare: the runtime emulated here against DynamoDB delayed as modeled.
DEPLOYED_PATH = "measured here (local emulation, DynamoDB delayed as modeled)"
# The same capacity for another unit size than the one measured: scaled by the unit's vCPU (a CPU
# bound grows with it, and so does a concurrency bound: one worker per vCPU, its threads each).
DEPLOYED_PATH_SCALED = f"{DEPLOYED_PATH}, scaled by vCPU to the unit priced (assumption)"
KNOWN_LABELS = (
    "profile",
    "command line",
    "measured here",
    "measured on AWS",
    "modeled",
    PROJECTED,
    DEFAULT,
    DEPLOYED_PATH,
    DEPLOYED_PATH_SCALED,
)
SCALING_MODES = ("fixed", "scheduled", "target-tracking")
EC2_PRICING = ("on-demand", "savings-plan-1y", "savings-plan-3y", "reserved-1y", "reserved-3y", "spot")
FARGATE_PRICING = ("on-demand", "savings-plan-1y", "savings-plan-3y")
LAMBDA_PRICING = ("none", "savings-plan-1y", "savings-plan-3y")
APIS = ("rest", "http", "url", "none")
ARCHES = ("arm64", "x86_64")


class ProfileError(ValueError):
    """The profile is missing something the model needs, or asks for something AWS does not sell."""


class Inputs:
    """Dotted-key access to the raw profile with defaults, recording each value's provenance."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        labels = raw.get("provenance", {}) or {}
        for key, label in labels.items():
            if label not in KNOWN_LABELS:
                raise ProfileError(f"provenance for {key!r} must be one of {KNOWN_LABELS}, not {label!r}")
        self.labels: dict[str, str] = dict(labels)
        self.used: dict[str, str] = {}

    def has(self, key: str) -> bool:
        node: Any = self.raw
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return node is not None

    def get(self, key: str, default: Any = None) -> Any:
        node: Any = self.raw
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node or node[part] is None:
                if default is not None:
                    self.used[key] = DEFAULT
                return default
            node = node[part]
        self.used[key] = self.labels.get(key, PROFILE)
        return node

    def num(self, key: str, default: float | None = None) -> float:
        value = self.get(key, default)
        if value is None:
            raise ProfileError(f"profile needs {key!r}")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ProfileError(f"{key!r} must be a number, not {value!r}")
        if value < 0:
            raise ProfileError(f"{key!r} must not be negative ({value})")
        return float(value)

    def choice(self, key: str, default: str, allowed: tuple[str, ...]) -> str:
        value = self.get(key, default)
        if value not in allowed:
            raise ProfileError(f"{key!r} must be one of {allowed}, not {value!r}")
        return str(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.get(key, default)
        if not isinstance(value, bool):
            raise ProfileError(f"{key!r} must be true or false, not {value!r}")
        return value

    def label(self, key: str) -> str:
        return self.used.get(key, self.labels.get(key, PROFILE if self.has(key) else DEFAULT))


@dataclass(frozen=True)
class Schedule:
    """Opening hours and the peak-hour shape: busy at 8–9 and 12–13, shut at night."""

    open_from: int = 7
    open_until: int = 19
    peaks: tuple[tuple[int, int], ...] = ((8, 9), (12, 13))
    peak_weight: float = 3.0
    burst_factor: float = 1.0

    def hourly_share(self) -> list[float]:
        """Fraction of a day's requests in each hour 0..23 (sums to 1)."""
        weights = [0.0] * 24
        for h in range(24):
            if self.open_from <= h < self.open_until:
                weights[h] = 1.0
                if any(a <= h < b for a, b in self.peaks):
                    weights[h] = self.peak_weight
        s = sum(weights)
        return [w / s for w in weights]

    @property
    def open_hours(self) -> int:
        return self.open_until - self.open_from

    def is_open(self, hour: int) -> bool:
        return self.open_from <= hour < self.open_until


@dataclass(frozen=True)
class LambdaConfig:
    memory_mb: float
    arch: str
    avg_billed_ms: float
    api: str
    init_ms: float
    cold_start_fraction: float
    cpu_bound_fraction: float
    log_bytes_per_request: float
    sweep_memory_mb: tuple[int, ...]
    xray: bool = True
    log_retention_days: int = 14
    emf_metrics: bool = True
    savings_plan: str = "none"  # a Compute Savings Plan on duration: none, savings-plan-1y/3y
    # Live push (API Gateway's WebSocket API): the $connect/$default/$disconnect handlers' and a
    # stream batch's billed duration, and the time of one post_to_connection (assumptions until
    # measured on AWS; the handlers' calls are the code's: push_lambda).
    ws_handler_ms: float = 100.0
    post_ms: float = 20.0


@dataclass(frozen=True)
class ServerConfig:
    """What Fargate and EC2 share: how many units, how they scale, what sits in front."""

    count: int | None
    min_count: int
    min_outside_hours: int
    scaling: str
    cpu_ms_per_request: float
    alb: bool
    alb_azs: int
    log_bytes_per_request: float
    waf: bool = False
    # Staff calls over plain HTTP (the lab's AllowStaffOverHttp): only then can a shape without
    # the ALB's HTTPS serve the barista page.
    staff_over_http: bool = False
    # The most one unit serves within the SLO on the deployed path (make compare's deployed-path
    # capacity: `fargate.capacity_rps_per_task`, `ec2.capacity_rps_per_instance`); None: CPU alone.
    capacity_rps_per_unit: float | None = None


@dataclass(frozen=True)
class FargateConfig(ServerConfig):
    vcpu: float = 0.25
    memory_gb: float = 0.5
    arch: str = "arm64"
    spot: bool = False
    pricing: str = "on-demand"
    network: str = "public"
    log_retention_days: int = 14
    emf_metrics: bool = True
    image_gb: float = 0.15
    images_kept: int = 10
    workers: int = 1  # server processes per task (the template's WEB_CONCURRENCY): a live hub each


@dataclass(frozen=True)
class Ec2Config(ServerConfig):
    instance_type: str = "t4g.small"
    pricing: str = "on-demand"
    ebs_gb: float = 8
    public_ip: bool = True
    unlimited: bool = True
    idle_cpu_pct: float = 1.0


@dataclass(frozen=True)
class Profile:
    region: str
    mode: str  # how the pages keep current: "push" (they follow a stream) or "polling"
    traffic: Traffic
    hours_per_month: float
    open_days_per_month: float
    free_tier: bool
    schedule: Schedule
    target_utilisation: float
    request_bytes: float
    response_bytes: float
    new_connections_per_request: float
    dynamodb_storage_gb: float
    lambda_: LambdaConfig
    fargate: FargateConfig
    ec2: Ec2Config
    slo_p99_ms: float | None
    notice_delay_target_ms: float | None  # the p99 a screen may take to show a change
    p99_ms: dict[str, float]
    shape: CafeShape
    max_waiting: int
    census: Census = field(repr=False, compare=False)
    inputs: Inputs = field(repr=False, compare=False)

    @property
    def monthly_requests(self) -> float:
        return self.traffic.requests_per_month

    @property
    def monthly_orders(self) -> float:
        return self.traffic.monthly_orders

    @property
    def requests_per_order(self) -> float:
        """Derived, never typed: every request the pages send, divided by the orders."""
        return self.traffic.requests_per_order

    def orders_per_minute(self) -> float:
        """Orders arriving a minute at an average open hour."""
        open_hours = self.open_days_per_month * self.schedule.open_hours
        return self.monthly_orders / open_hours / 60.0 if open_hours else 0.0

    def waiting_by_littles_law(self) -> float:
        """Orders placed and not yet READY at an average open hour: arrivals a minute × the wait."""
        return self.orders_per_minute() * self.shape.wait_to_ready_min.value

    def queue(self) -> Queue:
        """Orders waiting, ready and in the queue's set at an average open hour (Little's law). The
        app refuses a placement once ``max_waiting`` orders wait, so no more than that ever wait
        (``estimate`` warns when the café's orders would need more)."""
        waiting = min(self.waiting_by_littles_law(), float(self.max_waiting))
        ready = self.orders_per_minute() * self.shape.ready_to_pickup_min.value
        # The set keeps the ids of orders that left until a placement finds it full and prunes it.
        in_set = waiting + max(0.0, self.max_waiting - waiting) / 2.0
        return Queue(waiting=waiting, ready=ready, ids_in_set=in_set)

    @property
    def calendar_days(self) -> float:
        """Days in the priced month (log storage holds a number of days of ingestion)."""
        return self.hours_per_month / 24.0

    def with_requests(self, monthly_requests: float) -> Profile:
        """A what-if at another request volume with the same mix (tests of the price arithmetic):
        the café's orders stay, so requests per order change. Profiles never type requests."""
        from dataclasses import replace

        return replace(self, traffic=self.traffic.scaled_to(monthly_requests))

    def with_orders(self, monthly_orders: float) -> Profile:
        """The same café with another number of orders (the screens stay as they are)."""
        from dataclasses import replace

        return replace(self, traffic=self.traffic_for(self.mode, monthly_orders))

    def traffic_for(self, mode: str, monthly_orders: float | None = None) -> Traffic:
        """The café's traffic in ``mode`` (and at ``monthly_orders``, else its own orders)."""
        orders = self.monthly_orders if monthly_orders is None else monthly_orders
        if mode == self.mode and orders == self.monthly_orders:
            return self.traffic
        try:
            return derive(self.census, self.shape, orders, self.open_days_per_month, mode)
        except CensusError as exc:
            raise ProfileError(str(exc)) from exc

    def with_mode(self, mode: str) -> Profile:
        """The same café with its pages kept current the other way (push or polling)."""
        from dataclasses import replace

        if mode not in MODES:
            raise ProfileError(f"mode must be one of {MODES}, not {mode!r}")
        return replace(self, mode=mode, traffic=self.traffic_for(mode))

    def provenance(self) -> dict[str, str]:
        return dict(sorted(self.inputs.used.items()))


def _server_common(inp: Inputs, prefix: str, default_log: float) -> dict[str, Any]:
    count_key = "tasks" if prefix == "fargate" else "count"
    count = inp.get(f"{prefix}.{count_key}")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise ProfileError(f"{prefix}.{count_key} must be a whole number ≥ 1, not {count!r}")
    scaling_default = "scheduled" if inp.get(f"{prefix}.scale_in_outside_hours", False) else "fixed"
    return {
        "count": count,
        "min_count": int(inp.num(f"{prefix}.min_count", 1)),
        "min_outside_hours": int(inp.num(f"{prefix}.min_outside_hours", 0)),
        "scaling": inp.choice(f"{prefix}.scaling", scaling_default, SCALING_MODES),
        "cpu_ms_per_request": inp.num(f"{prefix}.cpu_ms_per_request", 5.0),
        "alb": inp.flag(f"{prefix}.alb", True),  # the shape that serves every page (HTTPS)
        "alb_azs": int(inp.num(f"{prefix}.alb_azs", 2)),
        "log_bytes_per_request": inp.num(f"{prefix}.log_bytes_per_request", default_log),
        "waf": inp.flag(f"{prefix}.waf", False),
        "staff_over_http": inp.flag(f"{prefix}.staff_over_http", False),
        "capacity_rps_per_unit": _capacity(inp, prefix),
    }


def _capacity(inp: Inputs, prefix: str) -> float | None:
    key = f"{prefix}.capacity_rps_per_task" if prefix == "fargate" else f"{prefix}.capacity_rps_per_instance"
    if inp.get(key) is None:
        return None
    value = inp.num(key)
    if value <= 0:
        raise ProfileError(f"{key} must be > 0, not {value!r}")
    return value


def _serves_every_page(cfg: ServerConfig, prefix: str) -> None:
    """A shape the verdict compares must run every page: the barista page's staff calls need
    HTTPS, which the ALB gives (an ACM certificate); without it they are refused."""
    if not cfg.alb and not cfg.staff_over_http:
        raise ProfileError(
            f"{prefix} without an ALB serves plain HTTP, and the barista page's staff calls are refused"
            f" over plain HTTP: set {prefix}.alb true (HTTPS with an ACM certificate), or"
            f" {prefix}.staff_over_http true to price the lab's AllowStaffOverHttp what-if"
        )


def _plan_following_ec2(inp: Inputs, key: str, ec2_pricing: str, allowed: tuple[str, ...]) -> str:
    """A Compute Savings Plan covers EC2, Fargate and Lambda alike: where the profile picks one for
    EC2 and says nothing for ``key``, the same plan is priced there too."""
    if inp.has(key):
        return inp.choice(key, "on-demand", allowed)
    if ec2_pricing.startswith("savings-plan") and ec2_pricing in allowed:
        inp.used[key] = "modeled (the Compute Savings Plan the profile picks for EC2 covers it too)"
        return ec2_pricing
    return inp.choice(key, allowed[0], allowed)


FREE_FORM = ("description", "meta", "provenance")


def _assumed(
    inp: Inputs, key: str, default: tuple[float, float, float], upper: float | None = None
) -> Assumed:
    """An assumption with its range: a number (the range is then the default's) or {value, low, high}."""
    raw = inp.get(key)
    value, low, high = default
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        value = inp.num(key)
        low, high = min(low, value), max(high, value)
    elif raw is not None:
        value, low, high = inp.num(f"{key}.value"), inp.num(f"{key}.low"), inp.num(f"{key}.high")
    else:
        inp.used[key] = DEFAULT
    if not low <= value <= high or (upper is not None and high > upper):
        raise ProfileError(f"{key} needs low ≤ value ≤ high{'' if upper is None else f' ≤ {upper:g}'}")
    return Assumed(value, low, high)


def _shape(inp: Inputs, open_hours: int) -> CafeShape:
    """How the café uses its pages (docs/cost-model.md, "Traffic")."""
    boards, tablets = inp.num("traffic.boards", 1), inp.num("traffic.barista_tablets", 1)
    if boards != int(boards) or tablets != int(tablets):
        raise ProfileError("traffic.boards and traffic.barista_tablets are whole numbers")
    screen_hours = inp.num("traffic.screen_hours", float(open_hours))
    if screen_hours > 24:
        raise ProfileError("traffic.screen_hours is at most 24")
    return CafeShape(
        wait_to_ready_min=_assumed(inp, "traffic.wait_to_ready_min", (5.0, 2.0, 10.0)),
        ready_to_pickup_min=_assumed(inp, "traffic.ready_to_pickup_min", (1.0, 0.5, 3.0)),
        visible_share=_assumed(inp, "traffic.visible_share", (0.5, 0.2, 0.9), upper=1.0),
        boards=int(boards),
        barista_tablets=int(tablets),
        screen_hours=screen_hours,
    )


def _leaves(node: Any, prefix: str = "") -> list[str]:
    if isinstance(node, dict) and node:
        return [leaf for k, v in node.items() for leaf in _leaves(v, f"{prefix}{k}.")]
    return [] if node is None else [prefix.rstrip(".")]  # null means "not given"


def _reject_unused(inp: Inputs) -> None:
    """A misspelt key would silently price the default: refuse keys the model did not read."""
    unused = [
        key
        for key in _leaves(inp.raw)
        if key.split(".")[0] not in FREE_FORM
        and key not in inp.used
        and not any(key.startswith(f"{u}.") for u in inp.used)
    ]
    if unused:
        raise ProfileError(f"unknown or unused profile key(s): {', '.join(sorted(unused))}")


def _mode(inp: Inputs, override: str | None) -> str:
    """The profile's ``mode`` (default push, as the pages now run), or the command line's."""
    if override is None:
        return inp.choice("mode", PUSH, MODES)
    if override not in MODES:
        raise ProfileError(f"mode must be one of {MODES}, not {override!r}")
    inp.get("mode")  # read, so a profile's own mode is not refused as unused
    inp.used["mode"] = "command line"
    return override


def parse(raw: dict[str, Any], mode: str | None = None) -> Profile:
    """Validate a profile dict (the JSON keys documented in docs/cost-model.md); ``mode`` replaces
    the profile's own (``make cost MODE=…``)."""
    if not isinstance(raw, dict):
        raise ProfileError("a profile is a JSON object")
    inp = Inputs(raw)
    chosen_mode = _mode(inp, mode)
    region = inp.choice("region", "us-east-1", ("us-east-1", "ap-northeast-2"))
    hours = inp.num("hours_per_month", 730.0)
    if hours <= 0 or hours > 744:
        raise ProfileError(f"hours_per_month must be in (0, 744], not {hours}")
    open_days = inp.num("open_days_per_month", hours / 24.0)
    if inp.has("requests_per_order"):
        raise ProfileError(
            "requests_per_order is derived from the census of the pages, never typed: describe the café"
            " (orders_per_day, traffic.wait_to_ready_min, traffic.visible_share, traffic.boards...)"
        )
    if not inp.has("orders_per_day"):
        raise ProfileError("profile needs 'orders_per_day'")
    orders_per_day = inp.num("orders_per_day")

    peaks_raw = inp.get("schedule.peaks", [[8, 9], [12, 13]])
    schedule = Schedule(
        open_from=int(inp.num("schedule.open_from", 7)),
        open_until=int(inp.num("schedule.open_until", 19)),
        peaks=tuple((int(a), int(b)) for a, b in peaks_raw),
        peak_weight=inp.num("schedule.peak_weight", 3.0),
        burst_factor=inp.num("schedule.burst_factor", 1.0),
    )
    if not 0 <= schedule.open_from < schedule.open_until <= 24:
        raise ProfileError("schedule needs 0 ≤ open_from < open_until ≤ 24")
    shape = _shape(inp, schedule.open_hours)
    try:
        census = load_census(Path(str(inp.get("traffic.census", str(CENSUS)))))
    except CensusError as exc:
        raise ProfileError(str(exc)) from exc
    try:
        traffic = derive(census, shape, orders_per_day * open_days, open_days, chosen_mode)
    except CensusError as exc:
        raise ProfileError(str(exc)) from exc
    util = inp.num("target_utilisation", 0.6)
    if not 0 < util <= 1:
        raise ProfileError("target_utilisation must be in (0, 1]")

    ec2_pricing = inp.choice("ec2.pricing", "on-demand", EC2_PRICING)
    lam_deployed = deployed.lambda_settings()
    far_deployed = deployed.fargate_settings()
    sweep = inp.get("lambda.sweep_memory_mb", [128, 256, 512, 1024, 1536, 1769, 2048, 3008, 4096])
    billed = inp.num("lambda.avg_billed_ms", 100)
    lam = LambdaConfig(
        memory_mb=inp.num("lambda.memory_mb", 512),
        arch=inp.choice("lambda.arch", "arm64", ARCHES),
        avg_billed_ms=billed,
        api=inp.choice("lambda.api", "rest", APIS),
        init_ms=inp.num("lambda.init_ms", 300),
        cold_start_fraction=inp.num("lambda.cold_start_fraction", 0.01),
        cpu_bound_fraction=inp.num("lambda.cpu_bound_fraction", 1.0),
        log_bytes_per_request=inp.num("lambda.log_bytes_per_request", 500),
        sweep_memory_mb=tuple(int(m) for m in sweep),
        xray=inp.flag("lambda.xray", lam_deployed["xray"]),
        log_retention_days=int(inp.num("lambda.log_retention_days", lam_deployed["log_retention_days"])),
        emf_metrics=inp.flag("lambda.emf_metrics", True),
        savings_plan=_plan_following_ec2(inp, "lambda.savings_plan", ec2_pricing, LAMBDA_PRICING),
        # A WebSocket handler makes a DynamoDB call or two, as a request does: its billed time.
        ws_handler_ms=inp.num("lambda.ws_handler_ms", billed),
        post_ms=inp.num("lambda.post_ms", 20.0),
    )
    if not 128 <= lam.memory_mb <= 10240:
        raise ProfileError("lambda.memory_mb must be within 128–10240")
    if not 0 <= lam.cpu_bound_fraction <= 1 or not 0 <= lam.cold_start_fraction <= 1:
        raise ProfileError("lambda.cpu_bound_fraction and cold_start_fraction must be within 0–1")

    far = FargateConfig(
        **_server_common(inp, "fargate", 200),
        vcpu=inp.num("fargate.vcpu", 0.25),
        memory_gb=inp.num("fargate.memory_gb", 0.5),
        arch=inp.choice("fargate.arch", "arm64", ARCHES),
        spot=inp.flag("fargate.spot", False),
        pricing=(
            inp.choice("fargate.pricing", "on-demand", FARGATE_PRICING)
            if inp.flag("fargate.spot", False)
            else _plan_following_ec2(inp, "fargate.pricing", ec2_pricing, FARGATE_PRICING)
        ),
        network=inp.choice("fargate.network", "public", ("public", "nat")),
        log_retention_days=int(inp.num("fargate.log_retention_days", far_deployed["log_retention_days"])),
        emf_metrics=inp.flag("fargate.emf_metrics", True),
        image_gb=inp.num("fargate.image_gb", 0.15),
        images_kept=int(inp.num("fargate.images_kept", far_deployed["images_kept"])),
        workers=far_deployed["workers_per_task"],
    )
    if far.spot and far.pricing != "on-demand":
        raise ProfileError("fargate.spot and a Savings Plan do not combine: Spot is already discounted")

    ec2 = Ec2Config(
        **_server_common(inp, "ec2", 200),
        instance_type=str(inp.get("ec2.instance_type", "t4g.small")),
        pricing=ec2_pricing,
        ebs_gb=inp.num("ec2.ebs_gb", 8),
        public_ip=inp.flag("ec2.public_ip", True),
        unlimited=inp.flag("ec2.unlimited", True),
        idle_cpu_pct=inp.num("ec2.idle_cpu_pct", 1.0),
    )

    _serves_every_page(far, "fargate")
    _serves_every_page(ec2, "ec2")

    p99_raw = inp.get("p99_ms", {}) or {}
    p99: dict[str, float] = {}
    for runtime in p99_raw:
        if runtime not in RUNTIMES:
            raise ProfileError(f"p99_ms keys are {RUNTIMES}, not {runtime!r}")
        p99[runtime] = inp.num(f"p99_ms.{runtime}")
    slo = inp.get("slo_p99_ms")
    notice_target = inp.get("notice_delay_target_ms")

    profile = Profile(
        region=region,
        mode=chosen_mode,
        traffic=traffic,
        hours_per_month=hours,
        open_days_per_month=open_days,
        free_tier=inp.flag("free_tier", False),
        schedule=schedule,
        target_utilisation=util,
        request_bytes=inp.num("payload.request_bytes", 600),
        response_bytes=inp.num("payload.response_bytes", 2500),
        new_connections_per_request=inp.num("payload.new_connections_per_request", 1.0),
        dynamodb_storage_gb=inp.num("dynamodb.storage_gb", 1.0),
        lambda_=lam,
        fargate=far,
        ec2=ec2,
        slo_p99_ms=None if slo is None else inp.num("slo_p99_ms"),
        notice_delay_target_ms=None if notice_target is None else inp.num("notice_delay_target_ms"),
        p99_ms=p99,
        shape=shape,
        max_waiting=int(inp.num("store.max_waiting", DEFAULT_MAX_WAITING)),
        census=census,
        inputs=inp,
    )
    _reject_unused(inp)
    return profile


def load(path: Path, mode: str | None = None) -> Profile:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ProfileError(f"{path}: not valid JSON ({exc})") from exc
    return parse(raw, mode)

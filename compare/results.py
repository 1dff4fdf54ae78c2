"""Everything a comparison run produces, as frozen dataclasses, and results.json: one writer, one reader.

`compare.run` builds a `RunResults`; `write_results` stores it once as results.json; the report, the
printed summary and the cost link read these types (and `read_results` reads a stored run back).
Field names are the JSON keys, except where `metadata={"json": ...}` says otherwise ("p99.9").
A field that a run could not measure is None, never a guessed number; the Optional fields at the end
of `RuntimeResult` are the places kept for measurements that later issues add.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

SCHEMA_VERSION = 2
FILE_NAME = "results.json"

# Where a figure comes from. Every figure in the report carries one of these.
MEASURED_HERE = "measured here"
LOCAL_LABEL = "measured here (local emulation)"
AWS_LABEL = "measured on AWS"
LOCAL_ENDPOINT_LABEL = "measured here (remote mode against a local endpoint)"
# The deployed path emulated: the runtimes in their envelopes against moto with every DynamoDB call
# delayed by a draw of the model's per-operation latency (compare.probes.dynamodelay).
DELAYED_DYNAMODB_LABEL = "measured here (local emulation, DynamoDB delayed as modeled)"
MIXED_LABEL = "measured here and on AWS (see each runtime)"
MODELED = "modeled"


class ResultsError(ValueError):
    """results.json is not a run this version can read."""


# --- latency -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Percentiles:
    """Latency percentiles in milliseconds (HDR histogram; zeros for an empty window)."""

    p50: float
    p90: float
    p99: float
    p99_9: float = field(metadata={"json": "p99.9"})
    max: float
    mean: float

    def get(self, name: str) -> float:
        """A percentile by its display name: p50, p90, p99, p99.9, max, mean."""
        return float(getattr(self, name.replace(".", "_")))


@dataclass(frozen=True)
class Spread:
    """A small sample: median, range and interquartile range."""

    n: int
    median: float
    min: float
    max: float
    q1: float
    q3: float


@dataclass(frozen=True)
class OperationLatency:
    requests: int
    latency_ms: Percentiles


@dataclass(frozen=True)
class CpuSplit:
    """A process tree's CPU: the root process, the rest of the tree, and both."""

    root: float
    children: float
    total: float

    def __add__(self, other: CpuSplit) -> CpuSplit:
        return CpuSplit(self.root + other.root, self.children + other.children, self.total + other.total)

    def __sub__(self, other: CpuSplit) -> CpuSplit:
        return CpuSplit(self.root - other.root, self.children - other.children, self.total - other.total)

    def per(self, count: int, scale: float = 1.0) -> CpuSplit:
        """Each part divided by `count` (zeros when nothing was counted), times `scale`."""
        if not count:
            return CpuSplit(0.0, 0.0, 0.0)
        return CpuSplit(self.root * scale / count, self.children * scale / count, self.total * scale / count)


@dataclass(frozen=True)
class ServerCpu:
    """The server tree's CPU over a measured window (/proc, local runs only)."""

    seconds: CpuSplit
    ms_per_request: CpuSplit
    share_of_one_core: float
    requests_counted: int


@dataclass(frozen=True)
class DurationSummary:
    median: float
    p99: float
    mean: float


@dataclass(frozen=True)
class BilledSummary:
    median: float
    p99: float
    mean: float
    total: float


@dataclass(frozen=True)
class WarmBilled:
    median: float
    mean: float


@dataclass(frozen=True)
class InitSummary:
    median: float
    max: float


@dataclass(frozen=True)
class ReportSummary:
    """Lambda REPORT lines summarised (the local emulator's log or CloudWatch Logs)."""

    invocations: int
    cold_starts: int
    duration_ms: DurationSummary
    billed_ms: BilledSummary
    billed_warm_ms: WarmBilled
    init_ms: InitSummary
    memory_size_mb: int
    max_memory_used_mb: int


@dataclass(frozen=True)
class Window:
    """One measured window against one target at one rate (possibly several rounds as one)."""

    requests: int
    errors: int
    error_rate: float
    errors_by_status: Mapping[str, int]
    statuses: Mapping[str, int]
    throughput_rps: float
    window_s: float
    warmup_excluded: int
    latency_ms: Percentiles
    by_operation: Mapping[str, OperationLatency]
    offered_rps: float
    planned: int
    skipped: int
    planned_rate_rps: float
    send_lag_ms: Percentiles
    generator_cpu_s: float
    generator_cpu_share: float
    target_rate_rps: float = 0.0
    rounds: tuple[OperationLatency, ...] = ()
    server_cpu: ServerCpu | None = None
    lambda_reports: ReportSummary | None = None  # the local Lambda's REPORT lines of this window
    # Errors by who answered them (compare.load.causes): "application:<code>", "front_door:<status>"
    # (API Gateway's own answer), "outside_app:<status>" (not the café's error body: a load balancer
    # or the server process), "transport:<what>" (timeout, refused connection).
    errors_by_cause: Mapping[str, int] = field(default_factory=dict)
    # Reference windows: measured after the runtime settled (compare.load.settle) and free of
    # front-door and transport errors; None where steadiness was not judged (capacity steps).
    steady: bool | None = None
    # Rounds measured once more because the runtime had settled but they were a transient
    # (compare.measure.once_more_if_transient): what each first try showed.
    remeasured: tuple[str, ...] = ()


# --- warm-up and the first minute after idle (compare.load.settle) ---------------------------


@dataclass(frozen=True)
class Interval:
    """One interval of a warm-up or of the first minute: what was offered and what came back."""

    phase: str  # "first minute", "ramp" or "hold"
    start_s: float  # since the phase began (intended send times)
    seconds: float
    rate_rps: float  # offered
    requests: int
    errors: int
    errors_by_cause: Mapping[str, int]
    p50_ms: float
    p99_ms: float
    cold_starts: int | None = None  # Lambda: REPORT lines with Init Duration (None: not readable)


@dataclass(frozen=True)
class Settling:
    """The offered rate ramped up, then held until the runtime stopped changing, within `max_s`:
    what happened before the reference window, how long it took and why it stopped."""

    steady: bool
    seconds: float  # wall time, ramp and hold
    ramp_s: float
    max_s: float
    reason: str  # why it stopped
    signal: str  # what steadiness was judged on
    intervals: tuple[Interval, ...]
    # The last stable intervals together: the steady figure (None when none was reached).
    steady_latency_ms: Percentiles | None = None
    steady_requests: int = 0
    steady_errors: int = 0
    source: str = MEASURED_HERE


@dataclass(frozen=True)
class FirstMinute:
    """The transient: the reference rate offered at once to a runtime that sat idle, for `seconds`
    (a café opening its doors). Its own figure, never mixed into the steady windows."""

    seconds: float
    rate_rps: float
    requests: int
    errors: int
    errors_by_cause: Mapping[str, int]
    latency_ms: Percentiles
    cold_starts: int | None  # Lambda: Init Duration lines met (None: not readable)
    cold_start_signal: str
    # Throttles the front door answered: counted by the local emulator, or API Gateway's 429s
    # remotely (a Lambda throttle reaches the client as a front-door 500, listed in errors_by_cause).
    throttles: int | None
    intervals: tuple[Interval, ...]
    idle: str  # what "idle" meant for this runtime in this run
    source: str = MEASURED_HERE


# --- capacity ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str
    # What a failing step was limited by: "runtime", "generator" (it could not send on time) or
    # "store" (SQLite or DynamoDB busy: 503 store_busy), so a limit is not pinned on the wrong party.
    cause: str = "runtime"


@dataclass(frozen=True, kw_only=True)
class CapacityStep(Window):
    """A rate step with its SLO verdict; `first_attempt` is the failed try a retry replaced."""

    verdict: Verdict
    first_attempt: CapacityStep | None = None


@dataclass(frozen=True)
class SloRecord:
    p99_ms: float
    max_error_rate: float
    min_delivery: float


@dataclass(frozen=True)
class Capacity:
    slo: SloRecord
    steps: tuple[CapacityStep, ...]
    sustainable_rps: float | None
    limit_found: bool
    stopped: str
    # The same runtime on the deployed path (DynamoDB delayed as modeled): RuntimeResult.deployed_path.
    deployed_path_rps: float | None = None

    def sustainable_text(self) -> str:
        """'600', '≥ 2000' when no step failed (the limit is above the ladder), or '–'."""
        if self.sustainable_rps is None:
            return "–"
        return f"{'' if self.limit_found else '≥ '}{self.sustainable_rps:g}"


# --- cold starts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ColdStartSample:
    """One fresh start. Server runtimes: healthy_ms, first_request_ms. Local Lambda: the rest."""

    status: int | None = None
    healthy_ms: float | None = None
    first_request_ms: float | None = None
    init_ms: float | None = None
    first_invoke_ms: float | None = None
    first_invoke_round_trip_ms: float | None = None
    total_ms: float | None = None
    billed_ms: float | None = None
    max_memory_used_mb: float | None = None


@dataclass(frozen=True)
class InstanceBoot:
    """An EC2 instance's own cold start read from the EC2 API (remote mode): launch → healthy."""

    what: str
    instance_id: str
    available: bool
    launch_time: str | None
    healthy_at: str | None
    launch_to_healthy_s: float | None
    source: str
    reason: str | None = None
    note: str | None = None
    instance_state: str | None = None
    console_timestamp: str | None = None

    def summary_text(self) -> str:
        """One line for the report and the printed summary."""
        if self.available and self.launch_to_healthy_s is not None:
            return (
                f"instance launch → healthy {self.launch_to_healthy_s:.1f} s "
                f"({self.instance_id}, launched {self.launch_time}; {self.source})"
            )
        return f"instance launch → healthy: {self.reason} ({self.instance_id})"


@dataclass(frozen=True)
class ColdStarts:
    """Fresh starts of one runtime. Local server runtimes fill healthy_ms/first_request_ms, the local
    Lambda init_ms/first_invoke_ms/total_ms/billed_ms; remote EC2 only launch_to_healthy."""

    what: str = ""
    samples: tuple[ColdStartSample, ...] = ()
    healthy_ms: Spread | None = None
    first_request_ms: Spread | None = None
    init_ms: Spread | None = None
    first_invoke_ms: Spread | None = None
    total_ms: Spread | None = None
    billed_ms: Spread | None = None
    launch_to_healthy: InstanceBoot | None = None
    # Two measures, never one column (both under the envelope, medians in ms):
    # request_path_ms: a request that waits for an environment's init (Lambda only; None for servers);
    # capacity_ready_ms: from the decision to add capacity until it serves (process start → healthy).
    request_path_ms: float | None = None
    capacity_ready_ms: float | None = None
    request_path: Spread | None = None
    capacity_ready: Spread | None = None

    @property
    def is_lambda(self) -> bool:
        return self.init_ms is not None

    @property
    def start_ms(self) -> Spread | None:
        """The start as a client sees it: spawn → first answer (Lambda) or → healthy (servers)."""
        return self.total_ms if self.is_lambda else self.healthy_ms


# --- what else a runtime reports -----------------------------------------------------------


@dataclass(frozen=True)
class ReportLine:
    request_id: str
    duration_ms: float
    billed_ms: int
    memory_size_mb: int
    max_memory_used_mb: int
    init_ms: float | None


@dataclass(frozen=True)
class LambdaReports:
    """REPORT lines read from CloudWatch Logs over the run (remote mode)."""

    log_group: str
    summary: ReportSummary
    reports: tuple[ReportLine, ...]


@dataclass(frozen=True)
class EmulatorStats:
    """The local Lambda's own counters at the end of the run."""

    environments: int
    idle: int
    concurrency_limit: int
    cold_starts: int
    throttles: int
    invocations: int
    memory_mb: int
    reaped: int = 0  # environments stopped after idle_reap_s without an event
    idle_reap_s: float | None = None


@dataclass(frozen=True)
class ImageSize:
    name: str
    size: str


@dataclass(frozen=True)
class ContainerImage:
    """The Fargate image's size where a container engine is present (image pull dominates on AWS)."""

    engine: str | None
    note: str
    images: tuple[ImageSize, ...] = ()


# Places kept for later issues: filled by their measurements, None until then.


@dataclass(frozen=True)
class Envelope:
    """The resources a runtime was held to while measured (per Lambda environment, per Fargate task,
    per EC2 instance), as deployed with the templates' defaults.

    `enforced` is False where cgroups could not be written: the figures were then taken uncapped.
    `mechanism` is "cgroup-v2", "cgroup-v1" or "none"; `basis` says where the shape comes from
    (e.g. "512 MB / 1,769 MB per vCPU"), `credits` the burstable assumption for EC2.
    """

    cpu_vcpu: float
    memory_mb: int
    enforced: bool
    mechanism: str
    basis: str = ""
    credits: str | None = None
    workers: int | None = None


@dataclass(frozen=True)
class CpuPerStore:
    """Server CPU per request (ms, the café mix) by store: SQLite locally, DynamoDB as deployed
    (boto3 against a moto server outside the envelope). The cost model reads `dynamodb`."""

    sqlite: float | None = None
    dynamodb: float | None = None
    billed_ms_dynamodb: float | None = None  # Lambda only: median billed duration, warm, DynamoDB path
    source: str = MEASURED_HERE


@dataclass(frozen=True)
class ReadyPart:
    """One part of new capacity's time on AWS, with its own kind (published measurement, AWS
    documentation, assumption, ...) and source: a sum is never labelled with one part's kind."""

    what: str
    seconds: float
    kind: str
    source: str


@dataclass(frozen=True)
class CapacityReady:
    """How long new capacity takes on AWS, beside what was measured here: the sum of its parts
    (each sourced, each with its kind), or remote mode's own measurement, with its source."""

    what: str
    seconds: float | None
    source: str
    parts: tuple[ReadyPart, ...] = ()

    def kinds(self) -> str:
        """What the figure rests on, part by part ("26 s published measurement + 75 s assumption …"),
        or the source's own kind when it has no parts (an older results file)."""
        if not self.parts:
            return self.source.split(":", 1)[0]
        return " + ".join(f"{p.seconds:g} s {p.what} ({p.kind})" for p in self.parts)


@dataclass(frozen=True)
class DayTotals:
    """One runtime's simulated business day (`make day`): modeled, not measured."""

    requests: int
    p99_ms: float | None
    cold_start_share: float
    usd: float


@dataclass(frozen=True)
class ProjectionInput:
    name: str
    value: Any  # a number, or a distribution / table as its JSON description
    source: str


@dataclass(frozen=True)
class Projection:
    """A latency projected for AWS from measured and published inputs, each with its source."""

    p50_ms: float
    p99_ms: float
    inputs: tuple[ProjectionInput, ...]


@dataclass(frozen=True)
class StoreOperation:
    """One DynamoDB operation at the delayed store: the drawn delays and what the calls took."""

    calls: int
    drawn_p50_ms: float
    drawn_p99_ms: float
    actual_p50_ms: float
    actual_p99_ms: float


@dataclass(frozen=True)
class StoreWindow:
    """The delayed DynamoDB over one window: its calls, how late moto answered beyond the draw
    (`excess`), and the most calls in flight at once (the runtime's concurrency as the store saw it)."""

    calls: int
    calls_per_s: float
    in_flight_max: int
    excess_p50_ms: float
    excess_p99_ms: float
    late_share: float
    kept_up: bool
    by_operation: Mapping[str, StoreOperation] = field(default_factory=dict)
    undelayed: Mapping[str, int] = field(default_factory=dict)
    source: str = DELAYED_DYNAMODB_LABEL


@dataclass(frozen=True)
class StoreCheck:
    """The delayed store's own throughput, checked before the runtimes meet it (as the generator's
    headroom is): GetItem calls open-loop at `rate_calls_rps`."""

    rate_calls_rps: float
    achieved_calls_rps: float
    latency_p50_ms: float
    latency_p99_ms: float
    store: StoreWindow
    kept_up: bool
    source: str = DELAYED_DYNAMODB_LABEL


@dataclass(frozen=True)
class DeployedStep:
    """One rate step on the deployed path, with the evidence its bound is judged on."""

    rate_rps: float
    ok: bool
    verdict: str
    throughput_rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_vcpu: float | None  # the server tree's CPU, in cores (cgroup-capped processes, /proc)
    in_flight_max: int  # DynamoDB calls in flight at once, as the store saw them
    store: StoreWindow | None
    send_lag_p99_ms: float
    limited_by: str | None = None  # a failing step: "cpu" | "concurrency" | "store" | "generator"
    reason: str = ""


@dataclass(frozen=True)
class ModelCheck:
    """The projection without the front door against the emulated deployed path at the reference
    rate: both p50 and p99 within `tolerance` of the projection, or which input disagrees."""

    modeled_p50_ms: float
    modeled_p99_ms: float
    emulated_p50_ms: float
    emulated_p99_ms: float
    tolerance: float
    agrees: bool
    disagrees: str  # "" when it agrees: otherwise the input that differs, with its figures
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeployedPathResult:
    """A runtime in its envelope against a DynamoDB that answers with the modeled latency: the café
    mix at the reference rate and a capacity search; the bound it hit and what would raise it."""

    capacity_rps: float | None
    limited_by: str | None  # "cpu" | "concurrency" | "store" | "generator"; None: no step failed
    p50_ms: float  # the reference rate
    p99_ms: float
    in_flight_max: int
    store_kept_up: bool
    limit_found: bool = True
    reason: str = ""
    raise_by: str = ""
    # Would another thread or worker count serve more on the same unit (compare.deployed.settings_advice)?
    settings: str = ""
    concurrency_limit: int | None = None
    concurrency_basis: str = ""
    cpu_quota_vcpu: float | None = None
    reference_rps: float = 0.0
    steady: bool | None = None  # settled (ramp, hold) before the reference window
    reference: Window | None = None
    reference_store: StoreWindow | None = None
    steps: tuple[DeployedStep, ...] = ()
    model: ModelCheck | None = None
    # The local hop to moto taken off each draw (compare.probes.dynamodelay.client_hop_ms).
    hop_ms: float = 0.0
    source: str = DELAYED_DYNAMODB_LABEL

    def capacity_text(self) -> str:
        if self.capacity_rps is None:
            return "–"
        return f"{'' if self.limit_found else '≥ '}{self.capacity_rps:g}"


@dataclass(frozen=True)
class NoticeMode:
    """How a runtime keeps the café's screens current in one mode (issue 24): "polling" (the
    pages' own intervals) or "push" (the runtime's transport: server-sent events or API Gateway's
    WebSocket API). Notice is from a committed change (its answer reaching the barista) to a
    tracker seeing it: for polling that includes the wait for the next poll."""

    mode: str  # "polling" | "push"
    transport: str  # "poll" | "sse" | "websocket"
    notice_ms: Percentiles
    changes: int  # changes made in the window
    deliveries: int  # (change, tracker) pairs seen
    missed: int  # pairs never seen before the window closed
    requests_per_s: float  # what the clients sent, per second of the window
    subscribers: int | None = None  # push: connections held during the window
    server_rss_mb_per_1k: float | None = None  # push, 1,000-subscriber phase: the server tree's RSS
    cpu_ms_per_event: float | None = None  # push, 1,000-subscriber phase: server CPU per change
    notice_ms_at_1k: Percentiles | None = None  # push: the trackers' notice with 1,000 subscribers
    refused: int = 0  # push: subscriptions refused or dropped
    note: str = ""
    source: str = MEASURED_HERE


@dataclass(frozen=True)
class RuntimeResult:
    """Everything measured for one runtime (or one remote target)."""

    description: str
    url: str
    source: str
    reference: Window | None = None
    capacity: Capacity | None = None
    cold_start: ColdStarts | None = None
    cloudwatch: LambdaReports | None = None  # remote Lambda: the REPORT lines of the whole run
    emulator: EmulatorStats | None = None
    image: ContainerImage | None = None
    envelope: Envelope | None = None
    cpu_ms_per_request: CpuPerStore | None = None
    dynamodb_round_trips: Mapping[str, int] | None = None
    projection: Projection | None = None
    aws_capacity_ready: CapacityReady | None = None
    day: DayTotals | None = None
    settling: Settling | None = None  # the warm-up before the reference window
    first_minute: FirstMinute | None = None  # the transient after idle, its own figure
    deployed_path: DeployedPathResult | None = None  # on DynamoDB delayed as modeled (issue 27)
    polling: NoticeMode | None = None  # screens kept current by polling (issue 24)
    push: NoticeMode | None = None  # ... and by push

    @property
    def billed(self) -> ReportSummary | None:
        """REPORT lines of the reference window (local) or of the whole run (CloudWatch)."""
        if self.reference is not None and self.reference.lambda_reports is not None:
            return self.reference.lambda_reports
        return self.cloudwatch.summary if self.cloudwatch is not None else None


# --- the run -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Headroom:
    """The generator against a trivial local server at 2× the highest rate used."""

    rate_rps: float
    achieved_rps: float
    sent_rps: float
    latency_ms: Percentiles
    send_lag_ms: Percentiles
    generator_cpu_s: float
    generator_cpu_share: float
    generator_cpu_ms_per_request: float
    kept_up: bool
    source: str = MEASURED_HERE


@dataclass(frozen=True)
class GeneratorRecord:
    """The load generator itself: whether it kept up with 2× the highest rate any step used, and
    which figures that affects when it did not."""

    kept_up: bool | None
    processes: int
    highest_rate_rps: float
    checked_rate_rps: float | None
    affected: tuple[str, ...] = ()
    source: str = MEASURED_HERE


@dataclass(frozen=True)
class Provenance:
    date_utc: str
    platform: str
    cpu_count: int | None
    cpu_model: str
    memory_gb: float | None
    load_average: tuple[float, ...]
    git_revision: str | None
    versions: Mapping[str, str]
    command: str
    argv: tuple[str, ...]


@dataclass(frozen=True)
class TargetRecord:
    name: str
    url: str


@dataclass(frozen=True)
class Settings:
    """The run's options as stored (the staff token only as whether it was set)."""

    rates: tuple[float, ...]
    step_s: float
    warmup_s: float
    reference_rate: float
    reference_s: float
    reference_warmup_s: float
    reference_rounds: int
    round_warmup_s: float
    slo_p99_ms: float
    cold_starts: int
    runtimes: tuple[str, ...]
    lambda_concurrency: int
    lambda_memory_mb: int
    fargate_workers: int
    base_port: int
    workload: str
    out_dir: str
    headroom: bool
    headroom_s: float
    targets: tuple[TargetRecord, ...]
    staff_token: str | None
    lambda_log_group: str | None
    ec2_instance_id: str | None
    region: str | None
    cost_profile: str
    command: str
    envelopes: bool = True
    ec2_credits: str = "full"
    dynamodb_path: bool = True
    dynamodb_rate: float = 15.0
    dynamodb_s: float = 6.0
    deployed_path: bool = False
    deployed_rates: tuple[float, ...] = ()
    deployed_step_s: float | None = None
    deployed_warmup_s: float | None = None
    deployed_reference_warmup_s: float | None = None
    deployed_reference_s: float | None = None
    modes: bool = False
    modes_s: float | None = None
    modes_trackers: int | None = None
    modes_change_rate: float | None = None
    modes_subscribers: int | None = None
    first_minute_s: float | None = None
    ramp_s: float | None = None
    settle_interval_s: float | None = None
    settle_intervals: int | None = None
    settle_max_s: float | None = None


@dataclass(frozen=True)
class VisitRecord:
    name: str
    weight: float
    steps: tuple[str, ...]


@dataclass(frozen=True)
class WorkloadRecord:
    """What the run sent: generated from the census of the pages and the cost profile
    (compare/load/mix.py), replayed with `file`'s seed and time compression."""

    file: str
    seed: int
    visits: tuple[VisitRecord, ...] = ()  # an older run's typed visits; () when generated
    generated_from: str = ""  # the census the mix was generated from ("" in an older run)
    profile: str = ""  # the cost profile whose café it is
    compression: float = 1.0  # every interval and wait of the pages and profile runs this much faster
    # Route shares: what the generator plans (a plan's shares tend to these) and the profile's by_route.
    generated_by_route: Mapping[str, float] = field(default_factory=dict)
    profile_by_route: Mapping[str, float] = field(default_factory=dict)
    by_operation: Mapping[str, float] = field(default_factory=dict)  # the mix by operation (projection)
    # What the reference rate stands for: cafés at their average open hour, customers tracking,
    # screens open at once (at this compression).
    reference_equivalents: Mapping[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class UnitSizing:
    """How one profile's Fargate tasks or EC2 instances are counted at its peak hour, with the
    deployed-path capacity this run measured (scaled to the profile's unit) where it was a bound
    of the runtime itself."""

    profile: str
    runtime: str
    unit: str  # "0.5 vCPU task", "t4g.medium"
    units_peak: int
    capacity_rps: float | None  # per unit, within the SLO on the deployed path; None: CPU alone
    capacity_source: str
    binding: str  # the cost model's own words: "sets the count", "not binding (CPU alone needs 1)"


@dataclass(frozen=True)
class CostSection:
    """The cost model's answer for the run's profile (compare.cost's own document), or why not."""

    available: bool
    note: str
    estimate: Mapping[str, Any] | None = None
    chart: str | None = None
    profile: Mapping[str, Any] | None = None
    base_profile: str | None = None
    sizing: tuple[UnitSizing, ...] = ()  # every profile's servers, sized with this run's figures

    @property
    def measured_inputs(self) -> dict[str, str]:
        """The profile inputs this run measured, with where they were measured."""
        provenance = (self.profile or {}).get("provenance", {})
        return {k: str(v) for k, v in provenance.items() if v != "profile"}


@dataclass(frozen=True)
class SensitivityRow:
    """One assumption moved to each end of its range, and the verdict there (compare.sensitivity)."""

    input: str
    kind: str
    low: float
    high: float
    answer_at_low: str
    answer_at_high: str
    base: str
    flips: bool


@dataclass(frozen=True)
class VerdictRecord:
    """How far the verdict holds: each assumption with a range, the decision at both of its ends."""

    sensitivity: tuple[SensitivityRow, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class SloSetting:
    """The run's p99 SLO and where it came from: "profile <name>" (the cost profile's
    `slo_p99_ms`) or "command line" (`--slo-p99-ms`)."""

    p99_ms: float
    source: str


@dataclass(frozen=True)
class RunResults:
    mode: str  # "local" or "remote"
    source: str
    provenance: Provenance
    options: Settings
    workload: WorkloadRecord
    runtimes: Mapping[str, RuntimeResult]
    headroom: Headroom | None
    wall_s: float
    cost: CostSection | None = None
    generator: GeneratorRecord | None = None
    day_chart: str | None = None  # the day simulation's chart, beside the report (modeled)
    slo: SloSetting | None = None  # None in a results.json written before the SLO said its source
    verdict: VerdictRecord | None = None  # None where the cost model was not run (or an older file)
    # The delayed DynamoDB's own throughput before the runtimes met it (deployed path), highest first.
    store_checks: tuple[StoreCheck, ...] = ()
    schema_version: int = SCHEMA_VERSION

    @property
    def slo_setting(self) -> SloSetting:
        """The SLO the run was judged against, with its source (an older file: the options' value)."""
        if self.slo is not None:
            return self.slo
        return SloSetting(self.options.slo_p99_ms, "not recorded (an older results.json)")


# --- one writer, one reader ----------------------------------------------------------------


def _key(f: dataclasses.Field[Any]) -> str:
    return str(f.metadata.get("json", f.name))


def to_json(value: Any) -> Any:
    """A results value as plain JSON data (dataclasses by field, tuples as lists)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {_key(f): to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


T = TypeVar("T")


def from_json(cls: type[T], data: Any) -> T:
    """Build `cls` (a results dataclass) from JSON data, checking every field's type."""
    return typing.cast(T, _build(cls, data, cls.__name__))


def _build(hint: Any, data: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if data is None and type(None) in options:
            return None
        (inner,) = [o for o in options if o is not type(None)]
        return _build(inner, data, where)
    if origin is tuple:
        item = typing.get_args(hint)[0]
        return tuple(_build(item, v, f"{where}[{i}]") for i, v in enumerate(_expect(data, list, where)))
    if origin in (Mapping, dict):
        value_hint = typing.get_args(hint)[1]
        items = _expect(data, dict, where).items()
        return {str(k): _build(value_hint, v, f"{where}.{k}") for k, v in items}
    if hint is Any:
        return data
    if dataclasses.is_dataclass(hint):
        raw = _expect(data, dict, where)
        hints = typing.get_type_hints(hint)
        kwargs = {}
        for f in dataclasses.fields(hint):
            if _key(f) in raw:
                kwargs[f.name] = _build(hints[f.name], raw[_key(f)], f"{where}.{_key(f)}")
        try:
            return typing.cast(Any, hint)(**kwargs)
        except TypeError as exc:
            raise ResultsError(f"{where}: {exc}") from exc
    if hint is float:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            raise ResultsError(f"{where}: expected a number, got {data!r}")
        return float(data)
    if hint in (int, str, bool):
        if not isinstance(data, hint) or (hint is int and isinstance(data, bool)):
            raise ResultsError(f"{where}: expected {hint.__name__}, got {data!r}")
        return data
    raise ResultsError(f"{where}: no reader for {hint!r}")


def _expect(data: Any, kind: type, where: str) -> Any:
    if not isinstance(data, kind):
        raise ResultsError(f"{where}: expected a JSON {'object' if kind is dict else 'array'}, got {data!r}")
    return data


def write_results(results: RunResults, directory: Path) -> Path:
    """Store the run as directory/results.json (the one place it is written)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / FILE_NAME
    path.write_text(json.dumps(to_json(results), indent=2), encoding="utf-8")
    return path


def read_results(path: Path) -> RunResults:
    """A stored run (a results.json file, or the report directory holding one)."""
    if path.is_dir():
        path = path / FILE_NAME
    data = json.loads(path.read_text(encoding="utf-8"))
    version = data.get("schema_version") if isinstance(data, dict) else None
    if version != SCHEMA_VERSION:
        raise ResultsError(f"{path}: schema_version {version!r}; this version reads {SCHEMA_VERSION}")
    return from_json(RunResults, data)

"""What a comparison run is asked to do: rates, windows, SLO, runtimes, targets, outputs."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from compare.costlink import BASE_PROFILE, profile_slo
from compare.load.workload import DEFAULT_WORKLOAD
from compare.local.runtimes import ROOT, RUNTIMES, RunOptions
from compare.results import Settings, SloSetting, from_json, to_json
from compare.targets import Target

DEFAULT_RUN = RunOptions()
# Before each runtime's reference window (compare.load.settle): the first minute after idle, the
# ramp, the held intervals and the bound on settling. Remote runs meet real cold starts and scaling,
# so they take the real minute; a local run keeps `make compare` short (its emulated environments
# start in a fraction of a second) and says so in the report.
REMOTE_SETTLE = {"first_minute_s": 60.0, "ramp_s": 30.0, "settle_interval_s": 10.0, "settle_max_s": 180.0}
LOCAL_SETTLE = {"first_minute_s": 4.0, "ramp_s": 1.5, "settle_interval_s": 1.0, "settle_max_s": 15.0}


@dataclass
class Options:
    rates: list[float] = field(default_factory=lambda: [50, 100, 200, 400, 600, 800, 1200, 1600, 2000])
    step_s: float = 3.0
    warmup_s: float = 1.0
    reference_rate: float = 100.0
    reference_s: float = 8.0
    # After the runtime settled (below), before the first round.
    reference_warmup_s: float = 1.0
    # The reference window is measured in this many rounds, taken in turn across the runtimes.
    reference_rounds: int = 3
    round_warmup_s: float = 1.0
    # None: the cost profile's `slo_p99_ms` (see `slo()`)
    slo_p99_ms: float | None = None
    cold_starts: int = 10
    runtimes: list[str] = field(default_factory=lambda: list(RUNTIMES))
    lambda_concurrency: int = DEFAULT_RUN.lambda_concurrency
    lambda_memory_mb: int = DEFAULT_RUN.lambda_memory_mb
    fargate_workers: int = DEFAULT_RUN.fargate_workers
    # Each runtime in its deployed CPU and memory (cgroups; uncapped where they cannot be written).
    envelopes: bool = True
    ec2_credits: str = "full"  # "exhausted": the t4g baseline (20 % per vCPU)
    # The deployed store path: CPU per request with the runtimes on DynamoDB (moto, outside the
    # envelopes) at a rate moto keeps up with.
    dynamodb_path: bool = True
    dynamodb_rate: float = 15.0
    dynamodb_s: float = 6.0
    # The deployed path measured (issue 27): each runtime in its envelope against moto with every
    # call delayed by the model's per-operation latency: the café mix at the reference rate for
    # `deployed_reference_s`, then a short capacity search up `deployed_rates`.
    deployed_path: bool = True
    deployed_rates: list[float] = field(default_factory=lambda: [50, 100, 200, 400])
    deployed_step_s: float = 2.0
    deployed_warmup_s: float = 0.5
    # After settling (the mode's ramp and hold, as before the SQLite reference), before the window.
    deployed_reference_warmup_s: float = 1.0
    # 1,000 requests at 100 req/s: its p99 is their 10th slowest, steady enough to hold against the
    # projection (at 4 s one stall of this machine moved it by 3×).
    deployed_reference_s: float = 10.0
    # Push against polling (issue 24, compare.modes): per runtime, the screens kept current by
    # polling and then by push while the barista moves `modes_trackers` orders on at
    # `modes_change_rate` a second for `modes_s`, then with `modes_subscribers` held.
    modes: bool = True
    modes_s: float = 8.0
    modes_trackers: int = 20
    modes_change_rate: float = 4.0
    modes_subscribers: int = 1000
    base_port: int = 18001
    workload: Path = DEFAULT_WORKLOAD
    out_dir: Path = ROOT / "reports"
    headroom: bool = True
    headroom_s: float = 3.0
    targets: list[Target] = field(default_factory=list)
    staff_token: str | None = None
    lambda_log_group: str | None = None
    ec2_instance_id: str | None = None
    region: str | None = None
    cost_profile: Path = BASE_PROFILE
    command: str = "make compare"
    # None: the mode's default (REMOTE_SETTLE / LOCAL_SETTLE); first_minute_s 0 skips the transient.
    first_minute_s: float | None = None
    ramp_s: float | None = None
    settle_interval_s: float | None = None
    settle_intervals: int = 3
    settle_max_s: float | None = None

    def for_mode(self, remote: bool) -> Options:
        """These options with the settling defaults of the mode filled in where none was given."""
        defaults = REMOTE_SETTLE if remote else LOCAL_SETTLE
        given = {k: getattr(self, k) for k in defaults}
        return replace(
            self,
            first_minute_s=_or(given["first_minute_s"], defaults["first_minute_s"]),
            ramp_s=_or(given["ramp_s"], defaults["ramp_s"]),
            settle_interval_s=_or(given["settle_interval_s"], defaults["settle_interval_s"]),
            settle_max_s=_or(given["settle_max_s"], defaults["settle_max_s"]),
        )

    def slo(self) -> SloSetting:
        """The p99 SLO the run is judged against: the one given (`--slo-p99-ms`), or else the cost
        profile's own `slo_p99_ms` (compare.costlink.SloError when it has none)."""
        if self.slo_p99_ms is not None:
            return SloSetting(float(self.slo_p99_ms), "command line")
        return SloSetting(profile_slo(self.cost_profile), f"profile {self.cost_profile.stem}")

    @property
    def run_options(self) -> RunOptions:
        return RunOptions(
            self.lambda_concurrency,
            self.lambda_memory_mb,
            self.fargate_workers,
            envelopes=self.envelopes,
            ec2_credits=self.ec2_credits,
        )

    def settings(self) -> Settings:
        """The options as stored with the results: the staff token only as whether it was set."""
        public = to_json(self) | {
            "staff_token": "(set)" if self.staff_token else None,
            "slo_p99_ms": self.slo().p99_ms,
        }
        return from_json(Settings, public)


def _or(value: float | None, default: float) -> float:
    return default if value is None else float(value)

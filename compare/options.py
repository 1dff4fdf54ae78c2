"""What a comparison run is asked to do: rates, windows, SLO, runtimes, targets, outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from compare.costlink import BASE_PROFILE
from compare.load.workload import DEFAULT_WORKLOAD
from compare.local.runtimes import ROOT, RUNTIMES, RunOptions
from compare.results import Settings, from_json, to_json
from compare.targets import Target

DEFAULT_RUN = RunOptions()


@dataclass
class Options:
    rates: list[float] = field(default_factory=lambda: [50, 100, 200, 400, 600, 800, 1200, 1600, 2000])
    step_s: float = 3.0
    warmup_s: float = 1.0
    reference_rate: float = 100.0
    reference_s: float = 8.0
    reference_warmup_s: float = 4.0
    # The reference window is measured in this many rounds, taken in turn across the runtimes.
    reference_rounds: int = 3
    round_warmup_s: float = 1.0
    slo_p99_ms: float = 100.0
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
        public = to_json(self) | {"staff_token": "(set)" if self.staff_token else None}
        return from_json(Settings, public)

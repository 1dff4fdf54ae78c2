"""`python -m compare run [...]`: the latency comparison (see compare/run.py); `diff A B` compares
two stored runs (compare/diff.py)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import sys
from pathlib import Path

from compare.costlink import SloError
from compare.load.headroom import headroom_check
from compare.load.workload import DEFAULT_WORKLOAD
from compare.local.runtimes import RUNTIMES
from compare.options import LOCAL_SETTLE, REMOTE_SETTLE, Options
from compare.progress import Ui
from compare.report.console import print_summary
from compare.results import to_json
from compare.run import run
from compare.targets import TargetError, merge, parse_target, read_outputs


def _rates(text: str) -> list[float]:
    rates = [float(x) for x in text.split(",") if x.strip()]
    if not rates or any(r <= 0 for r in rates) or rates != sorted(rates):
        raise argparse.ArgumentTypeError("rates must be positive and increasing, e.g. 50,100,200")
    return rates


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError("must be a whole number ≥ 1")
    return int(text)


def _names(text: str) -> list[str]:
    names = [x.strip() for x in text.split(",") if x.strip()]
    unknown = set(names) - set(RUNTIMES)
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown runtimes {sorted(unknown)}; choose from {RUNTIMES}")
    return names


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m compare", description="Latency comparison: Lambda, Fargate, EC2."
    )
    sub = top.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="the full comparison (local by default; remote with --target/--remote)")
    r.add_argument(
        "--rates", type=_rates, default=Options().rates, help="capacity steps, req/s (default %(default)s)"
    )
    r.add_argument("--step-s", type=float, default=Options.step_s, help="measured seconds per rate step")
    r.add_argument(
        "--warmup-s", type=float, default=Options.warmup_s, help="warm-up seconds before each step"
    )
    r.add_argument(
        "--reference-rate", type=float, default=Options.reference_rate, help="req/s of the reference run"
    )
    r.add_argument("--reference-s", type=float, default=Options.reference_s)
    r.add_argument(
        "--reference-warmup-s",
        type=float,
        default=Options.reference_warmup_s,
        help="warm-up before the first round, after the runtime settled",
    )
    r.add_argument(
        "--first-minute-s",
        type=float,
        help="the transient after idle: seconds at the reference rate offered at once before settling "
        f"(0: skip; default {REMOTE_SETTLE['first_minute_s']:g} remote, "
        f"{LOCAL_SETTLE['first_minute_s']:g} local)",
    )
    r.add_argument(
        "--ramp-s",
        type=float,
        help="seconds to ramp the rate up before holding it "
        f"(default {REMOTE_SETTLE['ramp_s']:g} remote, {LOCAL_SETTLE['ramp_s']:g} local)",
    )
    r.add_argument(
        "--settle-interval-s",
        type=float,
        help="length of each held interval judged for steadiness "
        f"(default {REMOTE_SETTLE['settle_interval_s']:g} remote, "
        f"{LOCAL_SETTLE['settle_interval_s']:g} local)",
    )
    r.add_argument(
        "--settle-intervals",
        type=_positive_int,
        default=Options.settle_intervals,
        help="consecutive stable intervals that make a steady state (default %(default)s)",
    )
    r.add_argument(
        "--settle-max-s",
        type=float,
        help="bound on ramp + hold; the window is then measured and marked not steady "
        f"(default {REMOTE_SETTLE['settle_max_s']:g} remote, {LOCAL_SETTLE['settle_max_s']:g} local)",
    )
    r.add_argument(
        "--reference-rounds",
        type=_positive_int,
        default=Options.reference_rounds,
        help="split the reference window into rounds taken in turn across the runtimes (default %(default)s)",
    )
    r.add_argument(
        "--round-warmup-s",
        type=float,
        default=Options.round_warmup_s,
        help="warm-up before each round after the first",
    )
    r.add_argument(
        "--slo-p99-ms",
        type=float,
        default=None,
        help="p99 SLO in ms (default: the cost profile's slo_p99_ms, see --cost-profile)",
    )
    r.add_argument(
        "--cold-starts", type=int, default=Options.cold_starts, help="fresh starts per runtime (local)"
    )
    r.add_argument("--runtimes", type=_names, default=list(RUNTIMES), help="local runtimes, e.g. lambda,ec2")
    r.add_argument("--lambda-concurrency", type=int, default=Options.lambda_concurrency)
    r.add_argument("--lambda-memory-mb", type=int, default=Options.lambda_memory_mb)
    r.add_argument("--fargate-workers", type=int, default=Options.fargate_workers)
    r.add_argument(
        "--no-envelopes",
        action="store_true",
        help="run every runtime uncapped (default: each in its deployed CPU and memory, via cgroups)",
    )
    r.add_argument(
        "--ec2-credits",
        choices=("full", "exhausted"),
        default=Options.ec2_credits,
        help="burstable EC2: a full credit balance (default) or credits exhausted (the baseline)",
    )
    r.add_argument(
        "--no-dynamodb",
        action="store_true",
        help="skip the deployed store path (CPU per request on DynamoDB via a moto server)",
    )
    r.add_argument(
        "--no-deployed-path",
        action="store_true",
        help="skip the deployed path's latency and capacity (DynamoDB delayed as modeled)",
    )
    r.add_argument(
        "--deployed-rates",
        type=_rates,
        default=Options().deployed_rates,
        help="the deployed path's capacity steps, req/s",
    )
    r.add_argument("--deployed-step-s", type=float, default=Options.deployed_step_s)
    r.add_argument("--deployed-warmup-s", type=float, default=Options.deployed_warmup_s)
    r.add_argument("--deployed-reference-s", type=float, default=Options.deployed_reference_s)
    r.add_argument("--deployed-reference-warmup-s", type=float, default=Options.deployed_reference_warmup_s)
    r.add_argument(
        "--no-modes",
        action="store_true",
        help="skip push against polling (notice delay, requests, subscribers held per runtime)",
    )
    r.add_argument("--modes-s", type=float, default=Options.modes_s, help="each mode's window, seconds")
    r.add_argument("--modes-trackers", type=int, default=Options.modes_trackers, help="tracked orders")
    r.add_argument(
        "--modes-change-rate", type=float, default=Options.modes_change_rate, help="changes a second"
    )
    r.add_argument(
        "--modes-subscribers", type=int, default=Options.modes_subscribers, help="subscribers held"
    )
    r.add_argument(
        "--base-port",
        type=int,
        default=Options.base_port,
        help="local ports base, base+1, base+2 (0: free ports)",
    )
    r.add_argument(
        "--workload",
        type=Path,
        default=DEFAULT_WORKLOAD,
        help="how the café is replayed (seed, time compression, orders); what it sends is generated "
        "from the census and --cost-profile",
    )
    r.add_argument("--out", type=Path, default=Options.out_dir, help="reports directory")
    r.add_argument("--no-headroom", action="store_true", help="skip the generator headroom check")
    r.add_argument("--headroom-s", type=float, default=Options.headroom_s)
    r.add_argument(
        "--target", action="append", default=[], metavar="NAME=URL", help="remote target (repeatable)"
    )
    r.add_argument("--remote", action="store_true", help="remote mode with the targets in --outputs-dir")
    r.add_argument("--outputs-dir", type=Path, default=Path("build/outputs"), help="deploy outputs (*.json)")
    r.add_argument("--lambda-log-group", help="CloudWatch log group for REPORT lines (remote)")
    r.add_argument("--region", help="AWS region for CloudWatch Logs and EC2 (remote)")
    r.add_argument(
        "--ec2-instance-id",
        help="EC2 instance whose launch → healthy time to read (remote; default: InstanceId in the "
        "ec2 outputs file, single mode)",
    )
    r.add_argument("--quiet", action="store_true", help="no progress bars")
    r.add_argument("--json", action="store_true", help="print results.json path only")
    r.add_argument(
        "--cost-profile",
        type=Path,
        default=Options.cost_profile,
        help="the café profile: the workload is generated from it and the census, and the report prices it",
    )
    sub.add_parser(
        "cost",
        help="price a workload profile (same as python -m compare.cost; see its --help)",
        add_help=False,
    )
    sub.add_parser(
        "diff", help="what changed between two stored runs: diff REPORT_A REPORT_B", add_help=False
    )
    h = sub.add_parser("headroom", help="only the generator headroom check against a trivial server")
    h.add_argument("--rate", type=float, default=1600.0)
    h.add_argument("--seconds", type=float, default=3.0)
    return top


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["cost"]:
        from compare.cost.__main__ import main as cost_main

        return cost_main(argv[1:])
    if argv[:1] == ["diff"]:
        from compare.diff import main as diff_main

        return diff_main(argv[1:])
    args = parser().parse_args(argv)
    if args.command == "headroom":
        print(json.dumps(to_json(asyncio.run(headroom_check(args.rate, args.seconds))), indent=2))
        return 0
    try:
        arg_targets = [parse_target(t) for t in args.target]
    except TargetError as exc:
        print(exc, file=sys.stderr)
        return 2
    targets = []
    if args.remote or arg_targets:
        from_files, notes = read_outputs(args.outputs_dir) if args.remote else ([], [])
        for note in notes:
            print(f"skipped {note}", file=sys.stderr)
        targets = merge(from_files, arg_targets)
        if not targets:
            print(
                f"remote mode: no targets (none given and none usable in {args.outputs_dir})", file=sys.stderr
            )
            return 2
    command = (os.environ.get("COMPARE_COMMAND") or "").strip() or "python -m compare " + " ".join(
        shlex.quote(a) for a in argv
    )
    opts = Options(
        rates=args.rates,
        step_s=args.step_s,
        warmup_s=args.warmup_s,
        reference_rate=args.reference_rate,
        reference_s=args.reference_s,
        reference_warmup_s=args.reference_warmup_s,
        reference_rounds=args.reference_rounds,
        round_warmup_s=args.round_warmup_s,
        slo_p99_ms=args.slo_p99_ms,
        cold_starts=args.cold_starts,
        runtimes=args.runtimes,
        lambda_concurrency=args.lambda_concurrency,
        lambda_memory_mb=args.lambda_memory_mb,
        fargate_workers=args.fargate_workers,
        envelopes=not args.no_envelopes,
        ec2_credits=args.ec2_credits,
        dynamodb_path=not args.no_dynamodb,
        deployed_path=not args.no_dynamodb and not args.no_deployed_path,
        deployed_rates=args.deployed_rates,
        deployed_step_s=args.deployed_step_s,
        deployed_warmup_s=args.deployed_warmup_s,
        deployed_reference_s=args.deployed_reference_s,
        deployed_reference_warmup_s=args.deployed_reference_warmup_s,
        modes=not args.no_modes,
        modes_s=args.modes_s,
        modes_trackers=args.modes_trackers,
        modes_change_rate=args.modes_change_rate,
        modes_subscribers=args.modes_subscribers,
        base_port=args.base_port,
        workload=args.workload,
        out_dir=args.out,
        headroom=not args.no_headroom,
        headroom_s=args.headroom_s,
        targets=targets,
        staff_token=os.environ.get("CAFE_STAFF_TOKEN") if targets else None,
        lambda_log_group=args.lambda_log_group,
        ec2_instance_id=args.ec2_instance_id,
        region=args.region,
        cost_profile=args.cost_profile,
        command=command,
        first_minute_s=args.first_minute_s,
        ramp_s=args.ramp_s,
        settle_interval_s=args.settle_interval_s,
        settle_intervals=args.settle_intervals,
        settle_max_s=args.settle_max_s,
    )
    try:
        opts.slo()
    except SloError as exc:
        print(exc, file=sys.stderr)
        return 2
    out, results = run(opts, Ui(quiet=args.quiet or args.json))
    if args.json:
        print(out / "results.json")
    else:
        print_summary(results, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m compare.day PROFILE.json` prints exactly one JSON document (the simulated day) on
stdout and writes the day's chart (and the same JSON) into ``--out`` (default reports/day-<ts>/)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from compare.aws_model.distributions import DistributionError
from compare.aws_model.overheads import OverheadsError
from compare.aws_model.overheads import load as load_overheads
from compare.cost.prices import PriceError
from compare.cost.profile import ProfileError
from compare.day.inputs import defaults, from_results
from compare.day.simulate import simulate_day


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m compare.day", description=__doc__)
    parser.add_argument("profile", type=Path, help="cost profile JSON (compare/cost/profiles/)")
    parser.add_argument("--results", type=Path, help="results.json of a comparison run (measured inputs)")
    parser.add_argument(
        "--overheads", type=Path, help="overheads file (default: newest in compare/aws_model/)"
    )
    parser.add_argument("--out", type=Path, help="directory for the chart (default reports/day-<timestamp>/)")
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument(
        "--idle-reap-s", type=float, help="Lambda idle time before reaping (default: overheads file)"
    )
    parser.add_argument("--no-chart", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        raw = json.loads(args.profile.read_text(encoding="utf-8"))
        inputs = defaults(load_overheads(args.overheads))
        if args.results:
            inputs = from_results(args.results, inputs)
        result = simulate_day(raw, inputs, seed=args.seed, idle_reap_s=args.idle_reap_s)
    except (
        OSError,
        json.JSONDecodeError,
        ProfileError,
        PriceError,
        OverheadsError,
        DistributionError,
    ) as exc:
        print(f"compare.day: {exc}", file=sys.stderr)
        return 2
    document = json.dumps(result, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    if not args.no_chart:
        out = args.out or Path("reports") / time.strftime("day-%Y%m%d-%H%M%S", time.gmtime())
        from compare.day.chart import day_chart

        chart = day_chart(result, out / "day.png")
        (out / "day.json").write_text(document, encoding="utf-8")
        print(f"compare.day: wrote {chart} and {out / 'day.json'}", file=sys.stderr)
    sys.stdout.write(document)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

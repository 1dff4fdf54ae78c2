"""`python -m compare.cost PROFILE.json` prints exactly one JSON document on stdout; logs go to stderr.

`python -m compare.cost refresh ...` pulls a new price snapshot (see compare/cost/refresh.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from compare.cost.model import estimate
from compare.cost.prices import PriceError
from compare.cost.profile import ProfileError
from compare.cost.traffic import MODES


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["refresh"]:
        from compare.cost.refresh import main as refresh_main

        return refresh_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m compare.cost", description=__doc__)
    parser.add_argument("profile", type=Path, help="workload profile JSON (see compare/cost/profiles/)")
    parser.add_argument(
        "--prices", type=Path, help="price snapshot (default: newest in compare/cost/prices/)"
    )
    parser.add_argument(
        "--mode",
        choices=MODES,
        help="how the pages keep current: push (they follow a stream) or polling; default: the profile's "
        "own `mode` (push when it says none)",
    )
    parser.add_argument("--chart", type=Path, help="also write the break-even chart to this PNG")
    parser.add_argument("--no-breakeven", action="store_true", help="skip the break-even curves (faster)")
    parser.add_argument("--table", action="store_true", help="print a rich table for people instead of JSON")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        raw = json.loads(args.profile.read_text(encoding="utf-8"))
        result = estimate(raw, prices=args.prices, with_breakeven=not args.no_breakeven, mode=args.mode)
        if args.chart:
            from compare.cost import breakeven_chart

            breakeven_chart(result, args.chart)
            result["chart"] = str(args.chart)
    except (OSError, json.JSONDecodeError, ProfileError, PriceError) as exc:
        print(f"compare.cost: {exc}", file=sys.stderr)
        return 2
    if args.table:
        from compare.cost.table import render

        render(result)
        return 0
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

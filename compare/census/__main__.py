"""``python -m compare.census [--out PATH]``: run the census and write the census file."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from compare.census import CENSUS_PATH
from compare.census.provenance import provenance
from compare.census.run import chromium, run_all
from compare.census.server import POLLING, PUSH, RUNTIMES, local_cafe
from compare.census.tally import census


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m compare.census", description=__doc__)
    parser.add_argument("--out", type=Path, default=CENSUS_PATH, help=f"default: {CENSUS_PATH}")
    args = parser.parse_args(argv)
    # The café's EMF metric lines would mix with the summary on stdout: the census needs none.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    from cafe.live.hub import HEARTBEAT_SECONDS

    began = time.monotonic()
    with chromium() as browser:
        # The same scenarios twice: push unavailable (the pages poll), then a café that pushes.
        with local_cafe(POLLING) as cafe:
            polling = run_all(browser, cafe)
        with local_cafe(PUSH) as cafe:
            push = run_all(browser, cafe)
        document = census(polling, push, provenance(browser.version), RUNTIMES, HEARTBEAT_SECONDS)
    args.out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.out} in {time.monotonic() - began:.0f} s", file=sys.stderr)
    summary = {k: document[k] for k in ("intervals_s", "customer", "barista", "board")}
    summary["push"] = {k: document["push"][k] for k in ("customer", "barista", "board", "streams")}
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

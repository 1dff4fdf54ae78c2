"""A second copy of one runtime for bench/push.py, started from a process of its own.

bench/push.py compares ``POST /orders`` with and without subscribers on two copies of the runtime
driven at the same moments, so that whatever else runs on this shared machine slows both alike.
Each copy must sit in its own envelope: ``compare.local.LocalCafe`` names its cgroups after the
process that made them and the runtime, so a second copy of the same runtime needs a second
process. This is that process: it starts the runtime on its own SQLite file exactly as the
comparison does, prints one JSON line (url, server pid, envelope), and stops it when its standard
input closes.

    BENCH_TWIN_TOKEN=… python bench/push_twin.py fargate /tmp/work 1 512   # envelopes on, Lambda MB
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from compare.local.cafe import LocalCafe  # noqa: E402
from compare.local.processes import free_port  # noqa: E402
from compare.local.runtimes import RunOptions  # noqa: E402


def main() -> None:
    name, work, envelopes, memory = sys.argv[1], Path(sys.argv[2]), sys.argv[3] == "1", int(sys.argv[4])
    env = {
        "CAFE_STORE": "sqlite",
        "CAFE_SQLITE_PATH": str(work / "cafe.sqlite3"),
        "CAFE_STAFF_TOKEN": os.environ["BENCH_TWIN_TOKEN"],
    }
    cafe = LocalCafe(
        env,
        {name: free_port()},
        work,
        (name,),
        RunOptions(envelopes=envelopes, lambda_memory_mb=memory),
        work / "lambda-functions.log",
    )
    cafe.start()
    try:
        print(
            json.dumps(
                {
                    "url": cafe.urls[name],
                    "pid": cafe.processes[name].pid,
                    "envelope": cafe.envelope(name).__dict__,
                }
            ),
            flush=True,
        )
        sys.stdin.read()  # until the benchmark closes our standard input
    finally:
        cafe.stop()


if __name__ == "__main__":
    main()

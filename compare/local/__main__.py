"""`python -m compare.local lambda|fargate|ec2 [--port N]`: run one runtime in the foreground.

The `make run-*` targets call this, so they run exactly the command that `make up`, the tests and
the comparison start (compare/local/runtimes.py).
"""

from __future__ import annotations

import argparse
import os
import sys

from compare.local.runtimes import DEFAULT_PORTS, RUNTIMES, RunOptions, runtime_spec


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m compare.local", description=__doc__)
    parser.add_argument("runtime", choices=RUNTIMES)
    parser.add_argument("--port", type=int, help="default: lambda 8001, fargate 8002, ec2 8003")
    args = parser.parse_args(argv)
    spec = runtime_spec(args.runtime, args.port or DEFAULT_PORTS[args.runtime], RunOptions())
    print(f"{spec.name} on {spec.url}: {' '.join(spec.argv)}", file=sys.stderr, flush=True)
    os.chdir(spec.cwd)
    os.execve(spec.argv[0], list(spec.argv), spec.environment({}))  # noqa: S606 - our own command


if __name__ == "__main__":
    sys.exit(main())

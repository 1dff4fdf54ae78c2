"""Lambda cold-init benchmark (issue: ordering core, performance goal 1).

A fresh interpreter per sample: the app imported and its first GET /menu answered through
the Lambda handler, against DynamoDB served by moto on 127.0.0.1, versus a bare handler that
only imports boto3 and creates a DynamoDB client. Samples alternate so machine noise hits
both alike; the goal is app ≤ 1.15 × bare on medians (issue 14). Measured here (this machine),
not on AWS.

Both variants import from bytecode, as on Lambda: the runtime's boto3 ships ``.pyc`` files and
``make package-lambda`` adds them for the café (``infra/lambda_package.add_bytecode``). The
children write their ``.pyc`` files under a temporary ``PYTHONPYCACHEPREFIX`` during the
warm-up samples, whatever ``PYTHONDONTWRITEBYTECODE`` says, and never into the tree;
``--no-bytecode`` compiles from source in every sample instead (a zip without bytecode).

    .venv/bin/python bench/cold_init.py --samples 15
    .venv/bin/python bench/cold_init.py --samples 15 --baseline ../cafe-before   # before/after
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def sample(kind: str, env: dict[str, str], tree: Path = ROOT) -> dict[str, float]:
    """One fresh interpreter; ``tree`` is the checkout whose chalice_app/ and shared/ it imports."""
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "cold_child.py"), kind],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_ms"] = (time.perf_counter() - started) * 1000
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument(
        "--no-bytecode", action="store_true", help="compile the café from source in every sample"
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="CHECKOUT",
        help="also sample the app of another checkout (e.g. the commit before a change) in the same run",
    )
    args = parser.parse_args()

    import boto3
    from moto.server import ThreadedMotoServer

    from cafe.stores.dynamodb import create_table
    from devtools.local import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "CAFE_STORE": "dynamodb",
        "CAFE_TABLE": "cafe-bench",
        "CAFE_STAFF_TOKEN": "bench-token",
        "POWERTOOLS_METRICS_NAMESPACE": "CafeBench",
    }
    pycache = tempfile.mkdtemp(prefix="cafe-cold-pyc-")
    if args.no_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # installed packages keep their own .pyc files
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = pycache  # bytecode of every variant here, never in the tree
    trees = {"bare": ROOT, "app": ROOT}
    if args.baseline:
        trees[f"app @ {args.baseline.name}"] = args.baseline.resolve()
    os.environ.update(
        {k: env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    )
    try:
        create_table(boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1"), "cafe-bench")
        results: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
        for name, tree in trees.items():  # warm the OS file cache and write the .pyc files once
            sample(name.split()[0], env, tree)
        for _ in range(args.samples):
            for name, tree in trees.items():
                results[name].append(sample(name.split()[0], env, tree))
    finally:
        server.stop()
        shutil.rmtree(pycache, ignore_errors=True)

    def med(kind: str, key: str) -> float:
        return statistics.median(r[key] for r in results[kind])

    bytecode = "compiled from source each time" if args.no_bytecode else "from bytecode, as packaged"
    print(f"samples per variant: {args.samples} (fresh interpreters, alternating; modules {bytecode})")
    print("| variant | init ms (median) | first request ms | init + first ms | whole process ms |")
    print("|---|---|---|---|---|")
    for kind in trees:
        total = statistics.median(r["init_ms"] + r["first_ms"] for r in results[kind])
        print(
            f"| {kind} | {med(kind, 'init_ms'):.1f} | {med(kind, 'first_ms'):.1f} | {total:.1f} |"
            f" {med(kind, 'process_ms'):.1f} |"
        )
    bare = statistics.median(r["init_ms"] + r["first_ms"] for r in results["bare"])
    print()
    for kind in list(trees)[1:]:
        app = statistics.median(r["init_ms"] + r["first_ms"] for r in results[kind])
        spread = [r["init_ms"] + r["first_ms"] for r in results[kind]]
        print(f"{kind} / bare (init + first response, medians): {app / bare:.2f}  (goal ≤ 1.15)")
        print(f"{kind} spread: min {min(spread):.1f} ms, max {max(spread):.1f} ms")
    print(f"whole-process ratio: {med('app', 'process_ms') / med('bare', 'process_ms'):.2f}")


if __name__ == "__main__":
    main()

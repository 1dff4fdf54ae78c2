"""schemathesis, a tool nobody here wrote, against each of the three live runtimes.

It reads ``/openapi.json`` and runs every check in every phase (examples, coverage, fuzzing and
stateful, which follows the document's links from ``POST /orders`` to the order operations):
no 5xx, every status and header documented, every schema-valid request accepted and every
invalid one refused, 405 with ``Allow`` for undeclared methods, staff operations refused
without the token. Bounded by ``--max-examples`` so ``make test`` stays a few minutes.

The runtimes get their own SQLite file: schemathesis closes the store, marks items sold out
and sends wrong tokens (a lockout of 127.0.0.1 would stall the other live tests).
"""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from devtools.local import RUNTIMES, LocalCafe, free_port

pytestmark = [pytest.mark.live, pytest.mark.slow]
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = 5
STATEFUL_EXAMPLES = 12  # scenarios: enough to follow the links from a placed order
SEED = 20261202  # repeatable: the same cases on every run and machine
# The local Lambda's front stands for API Gateway, which answers a method it does not route
# (TRACE, CONNECT…) itself with 403 and never invokes the function (README, "Where the runtimes
# differ"); test_lambda_routed_methods_get_the_shared_405 checks the methods that do reach it.
FRONT_ANSWERS_ITSELF = ("--exclude-checks", "unsupported_method")
GATEWAY_ROUTED = ("GET", "POST", "PUT", "PATCH", "DELETE")


@pytest.fixture(scope="module")
def fuzzed_cafe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCafe]:
    workdir = tmp_path_factory.mktemp("schemathesis-cafe")
    env = {
        "CAFE_STORE": "sqlite",
        "CAFE_SQLITE_PATH": str(workdir / "cafe.sqlite3"),
        "CAFE_STAFF_TOKEN": secrets.token_urlsafe(24),
        # schemathesis sends a wrong token on purpose (its ignored_auth check) many times over;
        # the lockout (tests/api/test_hardening.py) would then close every staff operation.
        "CAFE_STAFF_MAX_FAILURES": "100000",
    }
    cafe = LocalCafe(env=env, ports={runtime: free_port() for runtime in RUNTIMES}, log_dir=workdir / "logs")
    with cafe:
        yield cafe


def reopen(cafe: LocalCafe, runtime: str) -> None:
    """Open the store, roomy, everything available: the state stateful testing starts from."""
    url, headers = cafe.urls[runtime], {"Authorization": f"Bearer {cafe.staff_token}"}
    httpx.put(f"{url}/store", json={"open": True, "max_waiting": 100_000}, headers=headers).raise_for_status()
    for item in httpx.get(f"{url}/menu").json()["items"]:
        httpx.patch(f"{url}/menu/{item['id']}", json={"available": True}, headers=headers).raise_for_status()


def run_schemathesis(
    cafe: LocalCafe, runtime: str, report_dir: Path, phases: str, *options: str
) -> subprocess.CompletedProcess[str]:
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(CONFIG),
        "run",
        f"{cafe.urls[runtime]}/openapi.json",
        "--checks",
        "all",
        *(FRONT_ANSWERS_ITSELF if runtime == "lambda" else ()),
        "--phases",
        phases,
        "--max-examples",
        str(MAX_EXAMPLES),
        *options,
        "--seed",
        str(SEED),
        "--header",
        f"Authorization: Bearer {cafe.staff_token}",
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(report_dir / runtime / phases.replace(",", "-")),
    ]
    # Its own example database and cassettes go to the test's temporary folder, not the tree.
    return subprocess.run(command, capture_output=True, text=True, timeout=900, check=False, cwd=report_dir)


def test_schemathesis_finds_nothing_on_any_runtime(fuzzed_cafe: LocalCafe, tmp_path: Path) -> None:
    """Every operation on its own first; then, from an open store, sequences of operations.

    The three runtimes at once (each run waits on its server much of the time), on one store,
    so they also meet each other's state, as the three deployments share one order book. The
    first runs close the store and sell items out (valid requests, each checked). Left that
    way, every order the stateful phase tries is refused and the order operations are never
    reached through the links; so once all first runs are done the store is reopened, and
    the stateful runs leave out the two staff operations that would close it again.
    """
    with ThreadPoolExecutor(len(RUNTIMES)) as pool:

        def each(phases: str, *options: str) -> dict[str, subprocess.CompletedProcess[str]]:
            runs = pool.map(
                lambda runtime: run_schemathesis(fuzzed_cafe, runtime, tmp_path, phases, *options), RUNTIMES
            )
            return dict(zip(RUNTIMES, runs, strict=True))

        results = each("examples,coverage,fuzzing")
        if all(result.returncode == 0 for result in results.values()):
            reopen(fuzzed_cafe, RUNTIMES[0])
            results = each(
                "stateful",
                "--max-examples",
                str(STATEFUL_EXAMPLES),
                "--exclude-operation-id",
                "put_store",
                "--exclude-operation-id",
                "update_menu_item",
            )
    failed = {runtime: result for runtime, result in results.items() if result.returncode != 0}
    for result in results.values() if not failed else ():
        # A run that tested nothing would also exit 0: the stateful run must have followed the
        # links from a placed order to its operations (get, cancel, change status).
        links = re.search(r"API Links:\s+(\d+) covered", result.stdout)
        assert links and int(links.group(1)) >= 3, result.stdout[-3000:]
    assert not failed, "\n\n".join(
        f"--- {runtime} (exit {result.returncode}) ---\n{result.stdout[-6000:]}{result.stderr[-2000:]}"
        for runtime, result in failed.items()
    )


def test_lambda_routed_methods_get_the_shared_405(fuzzed_cafe: LocalCafe) -> None:
    """What schemathesis's method check is not run for on Lambda: every method API Gateway routes
    reaches the function, and one the path does not serve gets the shared 405 with Allow."""
    url = fuzzed_cafe.urls["lambda"]
    for path, served in (
        ("/menu", {"GET", "HEAD"}),
        ("/orders", {"GET", "POST"}),
        ("/pickup", {"GET", "HEAD"}),
    ):
        for method in GATEWAY_ROUTED:
            if method in served:
                continue
            response = httpx.request(method, url + path, timeout=30)
            assert response.status_code == 405, (method, path, response.text)
            assert response.json()["error"]["code"] == "method_not_allowed"
            assert {"GET"} <= {m.strip() for m in response.headers["Allow"].split(",")}
    trace = httpx.request("TRACE", url + "/menu", timeout=30)
    assert trace.status_code == 403 and trace.json() == {"message": "Missing Authentication Token"}

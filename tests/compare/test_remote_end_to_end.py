"""Remote mode end to end against the three runtimes started as `make up` starts them.

Freshly started endpoints stand in for a fresh deploy: the run must complete, measure every
reference window in a steady state, and count no error against a runtime for its own warm-up (that
goes to the first minute, by cause).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compare.__main__ import main
from compare.local.cafe import LocalCafe
from compare.local.processes import free_port
from compare.local.runtimes import RUNTIMES
from devtools.local import local_env
from tests.compare.test_end_to_end import MODES_TINY

# A few seconds when the machine is quiet; the bound leaves room for a loaded CI machine, where a
# cold Lambda environment's p99 takes longer to stop moving.
SETTLE_MAX_S = 40
SHORT = [
    "--rates",
    "20",
    "--step-s",
    "0.5",
    "--warmup-s",
    "0.2",
    "--reference-rate",
    "50",
    "--reference-s",
    "1.5",
    "--reference-warmup-s",
    "0.3",
    "--reference-rounds",
    "1",
    "--first-minute-s",
    "2",
    "--ramp-s",
    "0.6",
    "--settle-interval-s",
    "1",
    "--settle-max-s",
    str(SETTLE_MAX_S),
    "--slo-p99-ms",
    "1000",
    "--no-headroom",
    "--quiet",
    # Push against polling, short (the remote path of compare.modes: no process tree to read).
    *MODES_TINY,
]


@pytest.mark.live
@pytest.mark.slow
def test_remote_mode_against_freshly_started_runtimes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAFE_STAFF_TOKEN", "e2e-remote-token")
    monkeypatch.setenv("CAFE_STORE", "sqlite")
    monkeypatch.setenv("CAFE_SQLITE_PATH", str(tmp_path / "cafe.sqlite3"))
    # `make up`'s LocalCafe with its environment and default run options; only the ports and the
    # log directory are this test's own, so a developer's `make up` is left alone.
    ports = {name: free_port() for name in RUNTIMES}
    with LocalCafe(env=local_env(), ports=ports, log_dir=tmp_path) as cafe:
        targets = [f"--target={name}={url}" for name, url in cafe.urls.items()]
        assert main(["run", *targets, "--out", str(tmp_path / "reports"), *SHORT]) == 0
    (report_dir,) = (tmp_path / "reports").iterdir()
    results = json.loads((report_dir / "results.json").read_text())
    md = (report_dir / "report.md").read_text()
    assert results["mode"] == "remote" and set(results["runtimes"]) == set(RUNTIMES)
    for name, entry in results["runtimes"].items():
        settling, reference, first = entry["settling"], entry["reference"], entry["first_minute"]
        assert settling["steady"], f"{name}: {settling['reason']}"
        assert settling["seconds"] <= SETTLE_MAX_S + 5  # bounded (the last interval's answers may trail)
        assert reference["steady"] is True, name
        assert reference["errors"] == 0, (name, reference["errors_by_cause"])
        assert first["requests"] > 0 and sum(first["errors_by_cause"].values()) == first["errors"]
        assert entry["source"] == "measured here (remote mode against a local endpoint)"
    assert "## Warm-up and the first minute after idle" in md and "was not steady" not in md
    for name in ("fargate", "ec2"):
        polling, push = results["runtimes"][name]["polling"], results["runtimes"][name]["push"]
        assert polling["missed"] == 0 and push["missed"] == 0 and push["transport"] == "sse", name
        assert push["server_rss_mb_per_1k"] is None  # remote: no process tree here
        assert push["source"] == "measured here (remote mode against a local endpoint)"

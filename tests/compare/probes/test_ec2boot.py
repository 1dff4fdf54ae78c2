"""EC2 launch → healthy: the console marker, its parser, the boto3 calls (Stubber), the remote run.

Stubber rather than moto: moto's GetConsoleOutput returns a fixed text without our marker.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from compare.__main__ import main
from compare.probes.ec2boot import (
    MARKER,
    healthy_epochs,
    instance_id_of,
    launch_to_healthy,
    launch_to_healthy_from,
)
from compare.targets import read_outputs

ROOT = Path(__file__).resolve().parents[3]
INSTANCE = "i-0a1b2c3d4e5f60718"
LAUNCH = dt.datetime(2026, 11, 26, 10, 0, 0, tzinfo=dt.UTC)
HEALTHY = LAUNCH.timestamp() + 47.25


def console_text(healthy: float = HEALTHY, earlier: float | None = None) -> str:
    """What GetConsoleOutput shows for an AL2023 boot running ec2/user-data.sh (CRLF endings)."""
    lines = [
        "[    0.000000] Booting Linux on physical CPU 0x0000000000 [0x413fd0c1]",
        "[    0.000000] Linux version 6.1.115-126.197.amzn2023.aarch64 (mockbuild@ip-10-0-44-1) #1 SMP",
    ]
    if earlier is not None:  # an earlier boot's marker, still in the buffer
        lines.append(f"cloud-init[1590]: cafe-user-data: {MARKER}={earlier:.9f}")
    lines += [
        "[    9.874512] cloud-init[1590]: Cloud-init v. 22.2.2 running 'modules:final' at "
        "Thu, 26 Nov 2026 10:00:21 +0000. Up 9.80 seconds.",
        "[   10.101010] cloud-init[1590]: cafe-user-data: installing python3.11 python3.11-pip",
        "[   31.222222] cloud-init[1590]: cafe-user-data: installing s3://cafe-artifacts/bundles/ab12.tar.gz",
        "Amazon Linux 2023.6.20241111",
        "Kernel 6.1.115-126.197.amzn2023.aarch64 on an aarch64 (-)",
        "ip-10-0-1-23 login: [   47.011000] cloud-init[1590]: cafe-user-data: healthy on port 80",
        # A kernel message can cut into a console line.
        f"cloud-init[1590]: cafe-user-data: [   47.3] audit: type=1334 {MARKER}={healthy:.9f}",
        f"cafe-user-data: {MARKER}={healthy:.9f}",
        f"cloud-init[1590]: cafe-user-data: {MARKER}={healthy + 900:.9f}",  # re-run by hand later
        "[   48.000000] cloud-init[1590]: Cloud-init v. 22.2.2 finished at Thu, 26 Nov 2026 10:00:48 "
        "+0000. Datasource DataSourceEc2.  Up 48.01 seconds",
    ]
    return "\r\n".join(lines) + "\r\n"


def b64(text: str) -> str:
    """Output as EC2 sends it; botocore decodes it in an after-call handler, under Stubber too."""
    return base64.b64encode(text.encode()).decode()


# -- parsing (no I/O) ---------------------------------------------------------------------------


def test_parser_reads_every_marker_from_realistic_console_text() -> None:
    epochs = healthy_epochs(console_text(earlier=HEALTHY - 86_400))
    assert epochs == pytest.approx([HEALTHY - 86_400, HEALTHY, HEALTHY, HEALTHY + 900])
    assert healthy_epochs("cafe-user-data: healthy on port 80\r\n") == []


def test_first_marker_after_launch_counts() -> None:
    result = launch_to_healthy_from(INSTANCE, LAUNCH, console_text(earlier=HEALTHY - 86_400))
    assert result["available"] is True
    assert result["launch_to_healthy_s"] == pytest.approx(47.25, abs=1e-3)
    assert result["launch_time"] == "2026-11-26T10:00:00.000+00:00"
    assert result["healthy_at"] == "2026-11-26T10:00:47.250+00:00"
    assert result["source"] == "measured on AWS" and result["instance_id"] == INSTANCE


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "not available yet: the console output is empty"),
        ("\r\n  \r\n", "not available yet: the console output is empty"),
        (console_text().split("cloud-init[1590]: cafe-user-data: [   47.3]")[0], "not available yet: no "),
        (console_text(healthy=LAUNCH.timestamp() - 3600), "predates this launch"),
    ],
    ids=["empty", "blank", "before-healthy", "earlier-boot-only"],
)
def test_no_figure_without_a_marker_from_this_launch(text: str, reason: str) -> None:
    result = launch_to_healthy_from(INSTANCE, LAUNCH, text)
    assert result["available"] is False and reason in result["reason"]
    assert result["launch_to_healthy_s"] is None and result["healthy_at"] is None
    assert result["launch_time"] == "2026-11-26T10:00:00.000+00:00"


def test_instance_id_comes_from_the_deploy_outputs_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from infra import outputs

    monkeypatch.setenv(outputs.OUTPUTS_DIR_ENV, str(tmp_path))
    outputs.save(
        "ec2", "dev", "us-east-1", "cafe-ec2-dev", {"Url": "http://203.0.113.9", "InstanceId": INSTANCE}
    )
    outputs.save("fargate", "dev", "us-east-1", "cafe-fargate-dev", {"Url": "http://lb.example"})
    targets, notes = read_outputs(tmp_path)
    assert notes == []
    by_name = {t.name: t for t in targets}
    assert instance_id_of(by_name["ec2"].extra) == INSTANCE
    assert by_name["ec2"].region == "us-east-1"
    assert instance_id_of(by_name["fargate"].extra) is None
    # scale-out mode: an Auto Scaling group, no single instance
    assert instance_id_of({"outputs": {"AutoScalingGroupName": "cafe-asg"}}) is None


# -- the boto3 calls (botocore Stubber) ----------------------------------------------------------


@pytest.fixture
def ec2(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Stubber]]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    client = boto3.client("ec2", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _describe(stubber: Stubber) -> None:
    stubber.add_response(
        "describe_instances",
        {
            "Reservations": [
                {
                    "ReservationId": "r-0123456789abcdef0",
                    "Instances": [
                        {
                            "InstanceId": INSTANCE,
                            "InstanceType": "t4g.small",
                            "LaunchTime": LAUNCH,
                            "State": {"Code": 16, "Name": "running"},
                        }
                    ],
                }
            ]
        },
        {"InstanceIds": [INSTANCE]},
    )


def _console(stubber: Stubber, output: str | None) -> None:
    response: dict[str, Any] = {
        "InstanceId": INSTANCE,
        "Timestamp": LAUNCH + dt.timedelta(minutes=4),
    }
    if output is not None:
        response["Output"] = output
    stubber.add_response("get_console_output", response, {"InstanceId": INSTANCE, "Latest": True})


def test_launch_to_healthy_through_the_ec2_api(ec2: tuple[Any, Stubber]) -> None:
    client, stubber = ec2
    _describe(stubber)
    _console(stubber, b64(console_text()))
    result = launch_to_healthy(client, INSTANCE)
    assert result["available"] is True
    assert result["launch_to_healthy_s"] == pytest.approx(47.25, abs=1e-3)
    assert result["instance_state"] == "running"
    assert result["console_timestamp"] == "2026-11-26T10:04:00.000+00:00"
    assert result["source"] == "measured on AWS"


def test_console_output_not_posted_yet(ec2: tuple[Any, Stubber]) -> None:
    client, stubber = ec2
    _describe(stubber)
    _console(stubber, None)  # EC2 omits Output until it has some
    result = launch_to_healthy(client, INSTANCE)
    assert result["available"] is False and result["reason"].startswith("not available yet")
    assert result["launch_to_healthy_s"] is None


def test_api_errors_become_a_reason(ec2: tuple[Any, Stubber]) -> None:
    client, stubber = ec2
    stubber.add_client_error(
        "describe_instances",
        service_error_code="InvalidInstanceID.NotFound",
        service_message=f"The instance ID '{INSTANCE}' does not exist",
        expected_params={"InstanceIds": [INSTANCE]},
    )
    result = launch_to_healthy(client, INSTANCE)
    assert result["available"] is False and "InvalidInstanceID.NotFound" in result["reason"]


# -- the script writes the marker -----------------------------------------------------------------


def test_user_data_writes_the_marker_the_parser_reads() -> None:
    script = (ROOT / "ec2/user-data.sh").read_text(encoding="utf-8")
    step = script.split("# 6. Report when it answers", 1)[1]
    assert f'healthy_line="{MARKER}=$(date +%s.%N)"' in step
    assert 'log "$healthy_line"' in step and ">/dev/console" in step
    assert step.index("curl -fsS") < step.index("healthy_line=") < step.index("exit 0")
    # Run the script's own lines for it (log function, marker, console write) and parse the output.
    log_def = re.search(r"^log\(\) \{.*\}$", script, re.MULTILINE)
    assert log_def is not None
    body = [line.strip() for line in step.splitlines() if "healthy_line" in line]
    before = time.time()
    out = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", "\n".join([log_def.group(0), *body])],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (epoch,) = healthy_epochs(out)
    assert before <= epoch <= time.time()


# -- remote mode -----------------------------------------------------------------------------------

TINY = [
    "--rates",
    "20",
    "--step-s",
    "0.5",
    "--warmup-s",
    "0.2",
    "--reference-rate",
    "20",
    "--reference-s",
    "0.5",
    "--reference-warmup-s",
    "0.2",
    "--slo-p99-ms",
    "1000",
    "--first-minute-s",
    "0",
    "--ramp-s",
    "0",
    "--settle-interval-s",
    "0.2",
    "--settle-max-s",
    "2",
    "--no-modes",  # against a fake café: the modes need a real one
    "--no-headroom",
    "--quiet",
]


def test_remote_run_reports_launch_to_healthy_for_the_ec2_target(
    fake_cafe: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ec2: tuple[Any, Stubber],
    capsys: pytest.CaptureFixture[str],
) -> None:
    client, stubber = ec2
    _describe(stubber)
    _console(stubber, b64(console_text()))
    created: list[tuple[str, str | None]] = []

    def fake_client(service: str, region_name: str | None = None, **_: Any) -> Any:
        created.append((service, region_name))
        return client

    monkeypatch.setattr(boto3, "client", fake_client)
    monkeypatch.setenv("CAFE_STAFF_TOKEN", "test-token")
    outputs_dir, out = tmp_path / "outputs", tmp_path / "reports"
    outputs_dir.mkdir()
    record = {
        "runtime": "ec2",
        "stage": "dev",
        "region": "eu-west-1",
        "stack": "cafe-ec2-dev",
        "url": fake_cafe,
        "outputs": {"Url": fake_cafe, "InstanceId": INSTANCE},
    }
    (outputs_dir / "ec2-dev.json").write_text(json.dumps(record), encoding="utf-8")
    args = ["run", "--remote", "--outputs-dir", str(outputs_dir), "--out", str(out), *TINY]
    assert main(args) == 0
    assert created == [("ec2", "eu-west-1")]
    (report_dir,) = [p for p in out.iterdir() if p.is_dir()]
    results = json.loads((report_dir / "results.json").read_text())
    boot = results["runtimes"]["ec2"]["cold_start"]["launch_to_healthy"]
    assert boot["available"] and boot["launch_to_healthy_s"] == pytest.approx(47.25, abs=1e-3)
    md = (report_dir / "report.md").read_text()
    cold = md.split("## Cold starts", 1)[1].split("\n## ", 1)[0]
    assert INSTANCE in cold and "47.2 s" in cold and "measured on AWS" in cold
    assert "No cold starts were measured" not in cold
    assert f"ec2: instance launch → healthy 47.2 s ({INSTANCE}" in capsys.readouterr().out


def test_remote_run_without_an_instance_id_reads_nothing(
    fake_cafe: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_client(*_: Any, **__: Any) -> Any:
        raise AssertionError("no AWS call without an instance id")

    monkeypatch.setattr(boto3, "client", no_client)
    monkeypatch.setenv("CAFE_STAFF_TOKEN", "test-token")
    assert main(["run", "--target", f"ec2={fake_cafe}", "--out", str(tmp_path), *TINY]) == 0
    (report_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    results = json.loads((report_dir / "results.json").read_text())
    assert results["runtimes"]["ec2"]["cold_start"] is None
    assert "No cold starts were measured" in (report_dir / "report.md").read_text()


def test_ec2_instance_id_option_and_a_console_not_posted_yet(
    fake_cafe: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ec2: tuple[Any, Stubber]
) -> None:
    client, stubber = ec2
    _describe(stubber)
    _console(stubber, None)
    monkeypatch.setattr(boto3, "client", lambda service, region_name=None, **_: client)
    monkeypatch.setenv("CAFE_STAFF_TOKEN", "test-token")
    args = ["run", "--target", f"ec2={fake_cafe}", "--ec2-instance-id", INSTANCE, "--region", "us-east-1"]
    assert main([*args, "--out", str(tmp_path), *TINY]) == 0
    (report_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    results = json.loads((report_dir / "results.json").read_text())
    boot = results["runtimes"]["ec2"]["cold_start"]["launch_to_healthy"]
    assert boot["available"] is False and boot["launch_to_healthy_s"] is None
    assert results["options"]["ec2_instance_id"] == INSTANCE
    cold = (report_dir / "report.md").read_text().split("## Cold starts", 1)[1].split("\n## ", 1)[0]
    assert "not available yet: the console output is empty" in cold and INSTANCE in cold

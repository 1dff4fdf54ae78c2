"""EC2 cold start on AWS: instance launch → service healthy, from the EC2 API alone.

Remote mode cannot restart a deployed instance, but the instance's one real cold start is on
record: `DescribeInstances` gives its LaunchTime, and ec2/user-data.sh writes a
``CAFE_HEALTHY_EPOCH=<unix seconds>`` line to the serial console the moment /health first answers,
which `GetConsoleOutput` returns. No SSH, no agent, no log shipping. (`Output` is base64 on the
wire; botocore's own after-call handler decodes it, so the boto3 client hands back text.)

The console output lags: EC2 posts it some minutes after boot, so a run started right after a
deploy may find no marker yet. That is a result in itself ("not available yet", with the reason),
never a guessed number. Parsing is kept apart from the boto3 calls so it is tested on plain text.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from compare.results import InstanceBoot, from_json

SOURCE = "measured on AWS"
MARKER = "CAFE_HEALTHY_EPOCH"
WHAT = "EC2 instance launch (LaunchTime) → first 200 from /health (console marker)"
RESOLUTION_NOTE = "LaunchTime has 1 s resolution; the marker uses the instance's clock"

# Kernel messages can land in the middle of a console line, so the marker is searched, not anchored.
_MARKER = re.compile(rf"{MARKER}=(?P<epoch>\d{{9,}}(?:\.\d+)?)")


def instance_id_of(record: Mapping[str, Any]) -> str | None:
    """The single instance's id in a build/outputs/ec2-<stage>.json record (infra/outputs.py).

    The stack output `InstanceId` exists in single mode only (scale-out has an Auto Scaling group,
    whose instances come and go), so None there.
    """
    outputs = record.get("outputs")
    for source in (outputs if isinstance(outputs, Mapping) else {}, record):
        for key in ("InstanceId", "instance_id"):
            value = source.get(key)
            if isinstance(value, str) and value.startswith("i-"):
                return value
    return None


def healthy_epochs(console_text: str) -> list[float]:
    """Every marker's Unix time in the console text, in the order written."""
    return [float(match.group("epoch")) for match in _MARKER.finditer(console_text)]


def _iso(when: dt.datetime | None) -> str | None:
    return when.astimezone(dt.UTC).isoformat(timespec="milliseconds") if when is not None else None


def not_available(
    instance_id: str, reason: str, launch_time: dt.datetime | None = None, **extra: Any
) -> dict[str, Any]:
    """The result when there is no figure: same keys, no number, and why."""
    return {
        "what": WHAT,
        "instance_id": instance_id,
        "available": False,
        "reason": reason,
        "launch_time": _iso(launch_time),
        "healthy_at": None,
        "launch_to_healthy_s": None,
        "source": SOURCE,
        **extra,
    }


def launch_to_healthy_from(
    instance_id: str, launch_time: dt.datetime, console_text: str, **extra: Any
) -> dict[str, Any]:
    """The figure from LaunchTime and the console text (no I/O).

    The first marker at or after LaunchTime counts: a stop/start moves LaunchTime but the console
    may still show an earlier boot's marker, and re-running the script by hand adds later ones.
    """
    if launch_time.tzinfo is None:
        launch_time = launch_time.replace(tzinfo=dt.UTC)
    if not console_text.strip():
        return not_available(
            instance_id,
            "not available yet: the console output is empty (EC2 posts it a few minutes after boot; "
            "run again later)",
            launch_time,
            **extra,
        )
    epochs = healthy_epochs(console_text)
    if not epochs:
        return not_available(
            instance_id,
            f"not available yet: no {MARKER} line in the console output (the service has not "
            "answered /health yet, or the console output is older than that moment)",
            launch_time,
            **extra,
        )
    launched = launch_time.timestamp()
    current = [e for e in epochs if e >= launched]
    if not current:
        return not_available(
            instance_id,
            f"not available: every {MARKER} line predates this launch (an earlier boot's; the "
            "instance was stopped and started, and user data runs on the first boot only)",
            launch_time,
            **extra,
        )
    healthy = dt.datetime.fromtimestamp(current[0], dt.UTC)
    return {
        "what": WHAT,
        "instance_id": instance_id,
        "available": True,
        "launch_time": _iso(launch_time),
        "healthy_at": _iso(healthy),
        "launch_to_healthy_s": round(current[0] - launched, 3),
        "note": RESOLUTION_NOTE,
        "source": SOURCE,
        **extra,
    }


def _instance(response: Mapping[str, Any]) -> Mapping[str, Any] | None:
    instances: list[Mapping[str, Any]] = [
        instance
        for reservation in response.get("Reservations", [])
        for instance in reservation.get("Instances", [])
    ]
    return instances[0] if instances else None


def launch_to_healthy(ec2_client: Any, instance_id: str) -> dict[str, Any]:
    """Launch → healthy for one instance (boto3 `ec2` client); never raises for AWS errors.

    A comparison run has already spent minutes measuring when this is called, so an API error
    (no credentials, instance gone) becomes a result with its reason instead of a crash.
    """
    try:
        instance = _instance(ec2_client.describe_instances(InstanceIds=[instance_id]))
        if instance is None:
            return not_available(instance_id, "DescribeInstances does not list this instance")
        launch_time: dt.datetime = instance["LaunchTime"]
        state = (instance.get("State") or {}).get("Name")
        console = ec2_client.get_console_output(InstanceId=instance_id, Latest=True)
    except (BotoCoreError, ClientError) as exc:
        return not_available(instance_id, f"EC2 API error: {exc}")
    stamp = console.get("Timestamp")
    return launch_to_healthy_from(
        instance_id,
        launch_time,
        console.get("Output") or "",  # absent while EC2 has nothing to show yet
        instance_state=state,
        console_timestamp=_iso(stamp) if isinstance(stamp, dt.datetime) else None,
    )


def ec2_launch_to_healthy(instance_id: str, region: str | None) -> InstanceBoot:
    """Launch → healthy of one instance with a boto3 client of `region` (or the configured one)."""
    import boto3

    try:
        client = boto3.client("ec2", region_name=region) if region else boto3.client("ec2")
    except BotoCoreError as exc:  # e.g. no region configured anywhere
        return from_json(InstanceBoot, not_available(instance_id, f"no EC2 client: {exc}"))
    return from_json(InstanceBoot, launch_to_healthy(client, instance_id))

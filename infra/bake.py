"""``make bake-ami``: an AMI made from the running EC2 instance, app already installed.

The course notes' case for images — repeatability, reusability, recoverability: an instance
launched from this AMI skips the package and pip installs (the user-data script sees the bundle's
marker), so boot-to-healthy can be compared with installing at boot. Launch from it with
``make deploy-ec2 USE_BAKED_AMI=1`` (or ``AMI_ID=ami-...``).
"""

from __future__ import annotations

import argparse
import json
import os
import urllib.request
from datetime import UTC, datetime
from typing import Any

import boto3

from infra import credentials, outputs
from infra.stack import stack_outputs

WAITER = {"Delay": 15, "MaxAttempts": 120}


class BakeError(RuntimeError):
    """The source instance is missing or not healthy."""


def baked_ami_path(stage: str) -> Any:
    return outputs.outputs_dir() / f"ami-{stage}.json"


def _healthy(url: str, timeout: float = 5.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout) as response:  # noqa: S310 - our URL
            return bool(response.status == 200)
    except OSError:
        return False


def bake(session: Any, stage: str, *, check_health: bool = True) -> dict[str, str]:
    """Image the stage's single instance; waits until the AMI is available and tags it."""
    cfn, ec2 = session.client("cloudformation"), session.client("ec2")
    stack = f"cafe-ec2-{stage}"
    values = stack_outputs(cfn, stack)
    instance_id = values.get("InstanceId")
    if not instance_id:
        raise BakeError(f"{stack} has no InstanceId output (bake from Mode=single)")
    ec2.get_waiter("instance_status_ok").wait(InstanceIds=[instance_id], WaiterConfig=WAITER)
    if check_health and not _healthy(values.get("Url", "")):
        raise BakeError(f"{values.get('Url')}/health does not answer 200: bake a working instance only")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    tags = [
        {"Key": "project", "Value": "cafe-compute"},
        {"Key": "stage", "Value": stage},
        {"Key": "source-instance", "Value": instance_id},
        {"Key": "Name", "Value": f"cafe-ec2-{stage}-{stamp}"},
    ]
    image_id: str = ec2.create_image(
        InstanceId=instance_id,
        Name=f"cafe-ec2-{stage}-{stamp}",
        Description="Cafe Compute EC2 runtime with the app bundle installed (make bake-ami)",
        NoReboot=False,  # a clean filesystem snapshot
        TagSpecifications=[{"ResourceType": "image", "Tags": tags}],
    )["ImageId"]
    print(f"creating {image_id} from {instance_id}")
    ec2.get_waiter("image_available").wait(ImageIds=[image_id], WaiterConfig=WAITER)
    # Tag the snapshots too, once they exist (keeping an AMI costs its snapshots' storage).
    image = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    snapshots = [m["Ebs"]["SnapshotId"] for m in image.get("BlockDeviceMappings", []) if "Ebs" in m]
    if snapshots:
        ec2.create_tags(Resources=snapshots, Tags=tags)
    record = {"ami_id": image_id, "source_instance": instance_id, "stage": stage, "created_at": stamp}
    path = baked_ami_path(stage)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"{image_id} available [{path}]; launch from it: make deploy-ec2 STAGE={stage} USE_BAKED_AMI=1")
    return record


def baked_ami_id(stage: str) -> str:
    """The AMI id recorded by the last bake of this stage (for USE_BAKED_AMI=1)."""
    path = baked_ami_path(stage)
    if not path.exists():
        raise BakeError(f"no {path}: run make bake-ami STAGE={stage} first")
    ami: str = json.loads(path.read_text(encoding="utf-8"))["ami_id"]
    return ami


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m infra.bake", description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default=os.environ.get("STAGE", "dev"))
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or "us-east-1")
    parser.add_argument("--no-health-check", action="store_true", help="skip the /health probe")
    parser.add_argument("--print-id", action="store_true", help="print the last baked AMI id and exit")
    args = parser.parse_args(argv)
    if args.print_id:
        print(baked_ami_id(args.stage))
        return
    session = boto3.session.Session(region_name=args.region)
    credentials.identity(session)  # a clear message when there are none or they expired
    bake(session, args.stage, check_health=not args.no_health_check)


if __name__ == "__main__":
    try:
        main()
    except BakeError as error:
        raise SystemExit(f"bake failed: {error}") from None
    except Exception as error:
        message = credentials.explain(error)
        if message is None:
            raise
        raise SystemExit(f"bake failed: {message}") from None

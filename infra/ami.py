"""The current Amazon Linux 2023 AMI for an architecture: AWS's public SSM parameter, else
``ec2 describe-images``.

Some restricted accounts (a Learner Lab runbook records ``ssm:GetParameters`` on the public
``/aws/service/...`` paths as blocked) cannot read the parameter; the same image is then found
among Amazon's own AMIs by name (``al2023-ami-2023.*``: the standard image, not ``minimal`` or
the ECS-optimised ones), architecture, EBS root and HVM, newest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from botocore.exceptions import ClientError

SSM_PATH: Final = {
    "arm64": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
    "x86_64": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
}
NAME_PATTERN: Final = "al2023-ami-2023.*"
OWNER: Final = "amazon"


class AmiLookupError(RuntimeError):
    """Neither the SSM parameter nor describe-images gave an AMI."""


@dataclass(frozen=True)
class Found:
    image_id: str
    source: str  # where it came from, for the deploy's output


def from_ssm(ssm: Any, architecture: str) -> str:
    value: str = ssm.get_parameter(Name=SSM_PATH[architecture])["Parameter"]["Value"]
    return value


def from_images(ec2: Any, architecture: str) -> str:
    """The newest AL2023 standard AMI Amazon owns for ``architecture``."""
    images = ec2.describe_images(
        Owners=[OWNER],
        Filters=[
            {"Name": "name", "Values": [NAME_PATTERN]},
            {"Name": "architecture", "Values": [architecture]},
            {"Name": "state", "Values": ["available"]},
            {"Name": "root-device-type", "Values": ["ebs"]},
            {"Name": "virtualization-type", "Values": ["hvm"]},
        ],
    )["Images"]
    if not images:
        raise AmiLookupError(f"describe-images found no {NAME_PATTERN} {architecture} AMI owned by {OWNER}")
    newest = max(images, key=lambda image: (image.get("CreationDate", ""), image.get("Name", "")))
    image_id: str = newest["ImageId"]
    return image_id


def current(ssm: Any, ec2: Any, architecture: str) -> Found:
    """The SSM parameter's AMI; on any refusal or error there, describe-images' newest."""
    try:
        return Found(from_ssm(ssm, architecture), f"SSM {SSM_PATH[architecture]}")
    except ClientError as error:
        reason = error.response["Error"]["Code"]
    try:
        image_id = from_images(ec2, architecture)
    except ClientError as error:
        raise AmiLookupError(
            f"cannot find the AL2023 AMI: SSM {SSM_PATH[architecture]} answered {reason} and "
            f"ec2 describe-images {error.response['Error']['Code']}; pass one with AMI_ID=ami-..."
        ) from None
    return Found(image_id, f"ec2 describe-images ({SSM_PATH[architecture]} answered {reason})")

"""AWS Academy Learner Lab mode (``make ... LAB=1``): what a lab account allows, in one place.

In a Learner Lab students cannot create IAM roles, policies or instance profiles; the lab provides
a role (``LabRole``) and an instance profile (``LabInstanceProfile``) to use instead, only a few
regions are open, and EC2 is limited to small instance sizes. docs/deploy.md ("In a Learner Lab")
cites where these limits are published and which of them could not be verified from here.
Templates generated with ``lab=True`` create no IAM resource and take the existing names as
parameters (defaults below); :func:`check` refuses a region or instance type the lab would refuse,
before any stack is touched.
"""

from __future__ import annotations

from typing import Final

from infra.cfn import Json, sub

LAB_ROLE: Final = "LabRole"
LAB_INSTANCE_PROFILE: Final = "LabInstanceProfile"
#: Regions a Learner Lab account may use.
REGIONS: Final = ("us-east-1", "us-west-2")
#: EC2 instance sizes a Learner Lab account may launch (any family the account allows).
INSTANCE_SIZES: Final = ("nano", "micro", "small", "medium", "large")
ROLE_PARAMETER: Final = "LabRoleName"
PROFILE_PARAMETER: Final = "LabInstanceProfileName"
IAM_RESOURCE_TYPES: Final = (
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::InstanceProfile",
)


class LabLimitError(ValueError):
    """A region or instance type a Learner Lab account would refuse."""


def role_parameter() -> Json:
    return {
        ROLE_PARAMETER: {
            "Type": "String",
            "Default": LAB_ROLE,
            "AllowedPattern": "^[A-Za-z0-9+=,.@_-]{1,64}$",
            "Description": "Learner Lab mode: the lab's existing IAM role every runtime uses "
            "(students cannot create roles).",
        }
    }


def profile_parameter() -> Json:
    return {
        PROFILE_PARAMETER: {
            "Type": "String",
            "Default": LAB_INSTANCE_PROFILE,
            "AllowedPattern": "^[A-Za-z0-9+=,.@_-]{1,128}$",
            "Description": "Learner Lab mode: the lab's existing EC2 instance profile.",
        }
    }


def role_arn() -> Json:
    return sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${" + ROLE_PARAMETER + "}")


def check(region: str, instance_type: str | None = None) -> None:
    """Raise :class:`LabLimitError` with what the lab allows when region or type is outside it."""
    if region not in REGIONS:
        raise LabLimitError(
            f"a Learner Lab allows only the regions {', '.join(REGIONS)}; got REGION={region}"
        )
    if instance_type is not None:
        size = instance_type.partition(".")[2]
        if size not in INSTANCE_SIZES:
            raise LabLimitError(
                f"a Learner Lab launches only {'/'.join(INSTANCE_SIZES)} instances; got "
                f"INSTANCE_TYPE={instance_type} (try t4g.small or t3.small)"
            )


def iam_resources(template: Json) -> list[str]:
    """Logical ids of the IAM resources a lab account could not create."""
    return [
        name
        for name, resource in template.get("Resources", {}).items()
        if resource.get("Type") in IAM_RESOURCE_TYPES
    ]

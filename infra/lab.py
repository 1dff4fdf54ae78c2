"""AWS Academy Learner Lab mode (``make ... LAB=1``): what a lab account allows, in one place.

In a Learner Lab students cannot create IAM roles, policies or instance profiles; the lab provides
a role (``LabRole``) and an instance profile (``LabInstanceProfile``) to use instead, only a few
regions are open, and EC2 is limited to small instance sizes. docs/deploy.md ("In a Learner Lab")
says where these limits come from; ``make lab-check`` (:mod:`infra.preflight`) verifies what a
given session allows.
Templates generated with ``lab=True`` create no IAM resource and take the existing names as
parameters (defaults below); :func:`check` refuses a region or instance type the lab would refuse,
and :func:`check_options` scale-out, WAF, a certificate or Spot when the session's preflight
(``make lab-check``, run at the start of every lab deploy) saw them refused — before any stack is
touched.
"""

from __future__ import annotations

from collections.abc import Mapping
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


#: Options a lab may refuse → how a student asks for them, and the preflight findings
#: (``infra.preflight``) that decide whether this lab allows them.
OPTIONS: Final = {
    "scale-out": (
        "EC2_MODE=scale-out",
        ("probe:elb", "probe:autoscaling", "slr:autoscaling.amazonaws.com", "sim:EC2_MODE=scale-out"),
    ),
    "waf": ("PARAMS=WafRateLimit=...", ("sim:WafRateLimit",)),
    "certificate": ("CERTIFICATE_ARN=...", ("probe:acm",)),
    "spot": ("PARAMS=UseSpot=true", ("spot",)),
}


class LabLimitError(ValueError):
    """A region, instance type or option a Learner Lab account would refuse."""


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


def requested_options(params: Mapping[str, str]) -> list[str]:
    """The lab-sensitive options a deploy's stack parameters ask for."""
    wanted = {
        "scale-out": params.get("Mode") == "scale-out",
        "waf": params.get("WafRateLimit", "0") not in ("", "0"),
        "certificate": bool(params.get("CertificateArn")),
        "spot": params.get("UseSpot") == "true",
    }
    return [name for name, on in wanted.items() if on]


def check_options(requested: list[str], statuses: Mapping[str, str]) -> list[str]:
    """Refuse (:class:`LabLimitError`) an option the preflight saw refused; return a warning for
    each one it could not confirm (absent findings count as unknown)."""
    warnings: list[str] = []
    for name in requested:
        how, keys = OPTIONS[name]
        found = {key: statuses.get(key, "unknown") for key in keys}
        refused = [key for key, status in found.items() if status == "refused"]
        if refused:
            raise LabLimitError(
                f"{how} is refused in this lab (make lab-check: {', '.join(refused)} refused); "
                "deploy without it"
            )
        unknown = [key for key, status in found.items() if status != "allowed"]
        if unknown:
            warnings.append(
                f"{how}: the preflight could not confirm this lab allows it ({', '.join(unknown)} "
                "unknown); if the stack rolls back, deploy without it"
            )
    return warnings


def iam_resources(template: Json) -> list[str]:
    """Logical ids of the IAM resources a lab account could not create."""
    return [
        name
        for name, resource in template.get("Resources", {}).items()
        if resource.get("Type") in IAM_RESOURCE_TYPES
    ]

"""The staff token lives in SSM Parameter Store as a SecureString, created once per stage.

CloudFormation cannot create SecureString parameters, so the deploy helper does; the runtimes
read it at start (ECS secrets for Fargate, ``ec2/load-secrets.sh`` on EC2, the function itself
at cold start on Lambda) and it never appears in
a template, an AMI or a build artifact.
"""

from __future__ import annotations

import contextlib
import secrets
from typing import Any


def token_parameter_name(stage: str) -> str:
    return f"/cafe/{stage}/staff-token"


def ensure_staff_token(ssm: Any, stage: str) -> str:
    """Create the SecureString with a random token unless it exists; returns its name."""
    name = token_parameter_name(stage)
    try:
        ssm.get_parameter(Name=name)
    except ssm.exceptions.ParameterNotFound:
        ssm.put_parameter(
            Name=name,
            Type="SecureString",
            Value=secrets.token_urlsafe(32),
            Description="Cafe Compute staff token (Authorization: Bearer ...)",
            Tags=[{"Key": "project", "Value": "cafe-compute"}, {"Key": "stage", "Value": stage}],
        )
        print(f"created staff token {name} (read it: aws ssm get-parameter --with-decryption --name {name})")
    return name


def delete_staff_token(ssm: Any, stage: str) -> None:
    with contextlib.suppress(ssm.exceptions.ParameterNotFound):
        ssm.delete_parameter(Name=token_parameter_name(stage))

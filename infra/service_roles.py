"""The ECS service-linked role a brand-new account does not have yet.

ECS creates ``AWSServiceRoleForECS`` on first use of the console or of some APIs, but a
CloudFormation-created cluster with capacity providers fails in an account where it is missing
("Unable to assume the service linked role"). The deploy checks it first and creates it when it is
absent; in a Learner Lab, where IAM writes are refused, it only reports what to do.
"""

from __future__ import annotations

from typing import Any, Final

from botocore.exceptions import ClientError

ECS_ROLE: Final = "AWSServiceRoleForECS"
ECS_SERVICE: Final = "ecs.amazonaws.com"
#: Service-linked roles live under this path: finding it there does not depend on its name.
ECS_ROLE_PATH: Final = f"/aws-service-role/{ECS_SERVICE}/"


class ServiceRoleError(RuntimeError):
    """The service-linked role is missing and cannot be created here."""


def has_ecs_role(iam: Any) -> bool:
    pages = iam.get_paginator("list_roles").paginate(PathPrefix=ECS_ROLE_PATH)
    return any(page["Roles"] for page in pages)


def ensure_ecs_role(iam: Any, *, may_create: bool = True) -> str:
    """Return "present" or "created"; raise :class:`ServiceRoleError` when it cannot be had."""
    try:
        if has_ecs_role(iam):
            return "present"
    except ClientError as error:
        if error.response["Error"]["Code"] in ("AccessDenied", "AccessDeniedException"):
            # Cannot look (restricted accounts): let CloudFormation try; it names the problem.
            print(f"warning: cannot check for {ECS_ROLE} ({error.response['Error']['Code']})")
            return "unknown"
        raise
    if not may_create:
        raise ServiceRoleError(
            f"{ECS_ROLE} does not exist and Learner Lab mode does not create IAM roles: "
            "open the ECS console once (it creates the role) or ask the lab's administrator"
        )
    try:
        iam.create_service_linked_role(AWSServiceName=ECS_SERVICE)
    except ClientError as error:
        if "has been taken" not in str(error):  # created concurrently: fine
            raise ServiceRoleError(f"could not create {ECS_ROLE}: {error}") from error
    print(f"created the ECS service-linked role {ECS_ROLE}")
    return "created"

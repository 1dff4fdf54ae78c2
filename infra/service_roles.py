"""The service-linked roles the stacks need, which a brand-new account may not have yet.

A service-linked role belongs to an AWS service, which uses it to act in the account: ECS to
attach tasks to the network and load balancer (``AWSServiceRoleForECS``; a CloudFormation-created
cluster with capacity providers fails without it: "Unable to assume the service linked role"),
Application Auto Scaling to scale the ECS service (the Fargate ``ScalableTarget``), Elastic Load
Balancing for every ALB, EC2 Auto Scaling for the scale-out group. A missing one fails the
resource that needs it and rolls the whole stack back, so the deploy looks first (under each
role's path, which does not depend on its name) and creates the missing ones
(``iam:CreateServiceLinkedRole``). In a Learner Lab, where IAM writes are refused, it only checks
and says what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from botocore.exceptions import ClientError

DENIED: Final = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")


@dataclass(frozen=True)
class ServiceRole:
    service: str  # the AWSServiceName
    name: str  # the role's name on AWS
    needed_for: str  # what fails without it

    @property
    def path(self) -> str:
        return f"/aws-service-role/{self.service}/"


ECS: Final = ServiceRole("ecs.amazonaws.com", "AWSServiceRoleForECS", "the Fargate cluster and service")
APP_AUTOSCALING_ECS: Final = ServiceRole(
    "ecs.application-autoscaling.amazonaws.com",
    "AWSServiceRoleForApplicationAutoScaling_ECSService",
    "the Fargate service's scalable target (task autoscaling)",
)
ELB: Final = ServiceRole(
    "elasticloadbalancing.amazonaws.com",
    "AWSServiceRoleForElasticLoadBalancing",
    "the application load balancer (Fargate, EC2 scale-out)",
)
AUTOSCALING: Final = ServiceRole(
    "autoscaling.amazonaws.com", "AWSServiceRoleForAutoScaling", "the EC2 scale-out Auto Scaling group"
)
#: Every role, and which deploy needs which.
ALL: Final = (ECS, APP_AUTOSCALING_ECS, ELB, AUTOSCALING)
FARGATE: Final = (ECS, APP_AUTOSCALING_ECS, ELB)
EC2_SCALE_OUT: Final = (ELB, AUTOSCALING)
TARGETS: Final = {
    ECS.service: ("deploy-fargate",),
    APP_AUTOSCALING_ECS.service: ("deploy-fargate",),
    ELB.service: ("deploy-fargate", "deploy-ec2 EC2_MODE=scale-out"),
    AUTOSCALING.service: ("deploy-ec2 EC2_MODE=scale-out",),
}


class ServiceRoleError(RuntimeError):
    """A service-linked role is missing and cannot be created here."""


def has_role(iam: Any, role: ServiceRole) -> bool:
    pages = iam.get_paginator("list_roles").paginate(PathPrefix=role.path)
    return any(page["Roles"] for page in pages)


def ensure(iam: Any, role: ServiceRole, *, may_create: bool = True) -> str:
    """ "present", "created" or "unknown" (cannot look); raise :class:`ServiceRoleError` when it is
    missing and cannot be had."""
    try:
        if has_role(iam, role):
            return "present"
    except ClientError as error:
        if error.response["Error"]["Code"] in DENIED:
            # Cannot look (restricted accounts): let CloudFormation try; it names the problem.
            print(f"warning: cannot check for {role.name} ({error.response['Error']['Code']})")
            return "unknown"
        raise
    if not may_create:
        raise ServiceRoleError(
            f"{role.name} does not exist and Learner Lab mode does not create IAM roles; "
            f"{role.needed_for} needs it. Open that service's console page once (creating the first "
            "resource there creates the role) or ask the lab's administrator, then deploy again. "
            "No stack was changed."
        )
    try:
        iam.create_service_linked_role(AWSServiceName=role.service)
    except ClientError as error:
        if "has been taken" not in str(error):  # created concurrently: fine
            raise ServiceRoleError(
                f"could not create the service-linked role {role.name} ({role.needed_for} needs "
                f"it): {error}. Creating it needs iam:CreateServiceLinkedRole. No stack was changed."
            ) from error
    print(f"created the service-linked role {role.name} ({role.service})")
    return "created"


def ensure_all(iam: Any, roles: tuple[ServiceRole, ...], *, may_create: bool = True) -> dict[str, str]:
    """:func:`ensure` for each role, in order; the first that cannot be had stops the deploy."""
    return {role.name: ensure(iam, role, may_create=may_create) for role in roles}

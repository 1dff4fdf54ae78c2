"""Where to put things when the caller does not say: the region's default VPC and its subnets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class NoDefaultVpcError(RuntimeError):
    """The region has no default VPC; VPC_ID and SUBNET_IDS must be given."""


@dataclass(frozen=True)
class Network:
    vpc_id: str
    subnet_ids: list[str]  # one per Availability Zone, sorted by AZ


def resolve(ec2: Any, vpc_id: str | None = None, subnet_ids: list[str] | None = None) -> Network:
    """Explicit ids win; otherwise the default VPC and one default subnet per AZ."""
    if vpc_id and subnet_ids:
        return Network(vpc_id, subnet_ids)
    if not vpc_id:
        vpcs = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
        if not vpcs:
            raise NoDefaultVpcError("no default VPC in this region: set VPC_ID and SUBNET_IDS")
        vpc_id = vpcs[0]["VpcId"]
    if not subnet_ids:
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
        by_zone: dict[str, str] = {}
        for subnet in sorted(subnets, key=lambda s: (s["AvailabilityZone"], s["SubnetId"])):
            by_zone.setdefault(subnet["AvailabilityZone"], subnet["SubnetId"])
        subnet_ids = list(by_zone.values())
        if len(subnet_ids) < 2:
            raise NoDefaultVpcError(f"{vpc_id} has subnets in fewer than two AZs: set SUBNET_IDS")
    return Network(vpc_id, subnet_ids)


class NoZoneOffersTypeError(RuntimeError):
    """None of the subnets is in an Availability Zone that offers the instance type."""


def subnets_offering(ec2: Any, subnet_ids: list[str], instance_type: str) -> list[str]:
    """Those of ``subnet_ids`` (in order) whose Availability Zone offers ``instance_type`` (not
    every zone offers every type: us-east-1e has no Graviton instances, for one)."""
    offerings = ec2.describe_instance_type_offerings(
        LocationType="availability-zone",
        Filters=[{"Name": "instance-type", "Values": [instance_type]}],
    )["InstanceTypeOfferings"]
    zones = {offer["Location"] for offer in offerings}
    described = ec2.describe_subnets(SubnetIds=subnet_ids)["Subnets"]
    subnets = {s["SubnetId"]: s["AvailabilityZone"] for s in described}
    found = [subnet_id for subnet_id in subnet_ids if subnets.get(subnet_id) in zones]
    if not found:
        raise NoZoneOffersTypeError(
            f"{instance_type} is not offered in the zones of {', '.join(subnet_ids)} "
            f"({', '.join(sorted(set(subnets.values())))}); offered in: {', '.join(sorted(zones)) or 'none'}"
        )
    return found


def subnet_offering(ec2: Any, subnet_ids: list[str], instance_type: str) -> str:
    """The first subnet whose Availability Zone offers ``instance_type``."""
    return subnets_offering(ec2, subnet_ids, instance_type)[0]


def scale_out_subnets(ec2: Any, subnet_ids: list[str], instance_type: str) -> list[str]:
    """The subnets an Auto Scaling group of ``instance_type`` (and its ALB) may use: only zones
    offering the type (a launch there would fail), and at least two (an ALB needs two zones)."""
    found = subnets_offering(ec2, subnet_ids, instance_type)
    if len(found) < 2:
        raise NoZoneOffersTypeError(
            f"only {', '.join(found)} of {', '.join(subnet_ids)} is in a zone offering {instance_type}; "
            "scale-out needs two (the load balancer spans two zones): set SUBNET_IDS or another INSTANCE_TYPE"
        )
    return found

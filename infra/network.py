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

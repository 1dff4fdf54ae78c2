"""Scaling activity while a deployed Fargate service or EC2 Auto Scaling group is driven.

The counterpart of the Lambda cold-start counter (``compare.probes.coldseen``) for the runtimes
that scale by adding tasks or instances: between two marks (epoch milliseconds), how many scaling
activities ran (started, ended or still in progress), plus one while the fleet is still changing
(an ECS service with a deployment in progress or running ≠ desired tasks; an Auto Scaling group
with an instance not InService). A window in which the fleet changed is not a steady state.

Read with the AWS APIs (Application Auto Scaling and ECS for Fargate, EC2 Auto Scaling for EC2);
where they cannot be read (no credentials, no permission, names not in the outputs) the counter
says so in its signal and answers None, and steadiness rests on latency and errors alone.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from compare.probes.coldseen import ColdStartCounter

NOUN = "scaling activities"


def _epoch_ms(value: Any) -> int | None:
    if isinstance(value, dt.datetime):
        return int(value.timestamp() * 1000)
    return None


def _overlapping(activities: Iterable[Mapping[str, Any]], start: int, end: int) -> int:
    """Activities that ran at some time in [start, end] (an unfinished one runs until now)."""
    now = int(time.time() * 1000)
    count = 0
    for activity in activities:
        began = _epoch_ms(activity.get("StartTime"))
        ended = _epoch_ms(activity.get("EndTime")) or now
        if began is not None and began <= end and ended >= start:
            count += 1
    return count


def _output(record: Mapping[str, Any], *keys: str) -> str | None:
    outputs = record.get("outputs")
    for source in (outputs if isinstance(outputs, Mapping) else {}, record):
        for key in keys:
            value = source.get(key)
            if isinstance(value, str) and value:
                return value
    return None


@dataclass
class _AwsCounter:
    """Shared bookkeeping: lazily built clients, the first failure kept and said."""

    region: str | None
    signal: str = ""
    noun: str = NOUN
    clients: dict[str, Any] = field(default_factory=dict, repr=False)
    failed: str | None = None

    def client(self, service: str) -> Any:
        if service not in self.clients:
            import boto3

            self.clients[service] = (
                boto3.client(service, region_name=self.region) if self.region else boto3.client(service)
            )
        return self.clients[service]

    def mark(self) -> int:
        return int(time.time() * 1000)

    def count(self, start: int, end: int) -> int | None:
        if self.failed is not None:
            return None
        try:
            return self.read(start, end)
        except Exception as exc:  # any failure means "not readable", said in the report
            self.failed = f"{type(exc).__name__}: {exc}"
            self.signal = f"latency and errors ({self.what()} not readable: {self.failed})"
            return None

    def read(self, start: int, end: int) -> int:
        raise NotImplementedError

    def what(self) -> str:
        raise NotImplementedError


@dataclass
class EcsScalingCounter(_AwsCounter):
    """A Fargate service: Application Auto Scaling's activities on it, and its deployments."""

    cluster: str = ""
    service: str = ""

    def __post_init__(self) -> None:
        self.signal = self.signal or f"{NOUN} ({self.what()})"

    def what(self) -> str:
        return f"Application Auto Scaling and ECS for service {self.cluster}/{self.service}"

    def read(self, start: int, end: int) -> int:
        activities = self.client("application-autoscaling").describe_scaling_activities(
            ServiceNamespace="ecs", ResourceId=f"service/{self.cluster}/{self.service}"
        )["ScalingActivities"]
        found = _overlapping(activities, start, end)
        described = self.client("ecs").describe_services(cluster=self.cluster, services=[self.service])
        for service in described.get("services", []):
            changing = len(service.get("deployments", [])) > 1 or service.get("runningCount") != service.get(
                "desiredCount"
            )
            found += int(changing)
        return found


@dataclass
class AsgScalingCounter(_AwsCounter):
    """An EC2 Auto Scaling group: its scaling activities, and instances not yet InService."""

    group: str = ""

    def __post_init__(self) -> None:
        self.signal = self.signal or f"{NOUN} ({self.what()})"

    def what(self) -> str:
        return f"EC2 Auto Scaling group {self.group}"

    def read(self, start: int, end: int) -> int:
        autoscaling = self.client("autoscaling")
        activities = autoscaling.describe_scaling_activities(AutoScalingGroupName=self.group)["Activities"]
        found = _overlapping(activities, start, end)
        groups = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[self.group])
        for group in groups.get("AutoScalingGroups", []):
            found += int(any(i.get("LifecycleState") != "InService" for i in group.get("Instances", [])))
        return found


def scaling_counter(runtime: str, record: Mapping[str, Any], region: str | None) -> ColdStartCounter | None:
    """The counter for a remote Fargate or EC2 target whose outputs name its service or group."""
    if runtime == "fargate":
        cluster, service = _output(record, "ClusterName"), _output(record, "ServiceName")
        if cluster and service:
            return EcsScalingCounter(region, cluster=cluster, service=service)
    if runtime == "ec2":
        group = _output(record, "AutoScalingGroupName")
        if group:
            return AsgScalingCounter(region, group=group)
    return None

"""Scaling activity of a deployed Fargate service or EC2 group, read between two marks, as the
steady-state judge counts it (botocore Stubber: the AWS APIs' own request and response shapes)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
from botocore.stub import Stubber

from compare.load.settle import SettleConfig, judge
from compare.probes.scaling import AsgScalingCounter, EcsScalingCounter, scaling_counter
from compare.results import Interval

T0 = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)


def _ms(minutes: float) -> int:
    return int((T0 + dt.timedelta(minutes=minutes)).timestamp() * 1000)


def _activity(start: float, end: float | None, **extra: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"StartTime": T0 + dt.timedelta(minutes=start), **extra}
    if end is not None:
        found["EndTime"] = T0 + dt.timedelta(minutes=end)
    return found


def _ecs_counter(
    activities: list[dict[str, Any]], service: dict[str, Any]
) -> tuple[EcsScalingCounter, list[Stubber]]:
    counter = EcsScalingCounter("us-east-1", cluster="cafe-dev", service="cafe-dev")
    scaling = boto3.client("application-autoscaling", region_name="us-east-1")
    ecs = boto3.client("ecs", region_name="us-east-1")
    stubs = [Stubber(scaling), Stubber(ecs)]
    common = {
        "ServiceNamespace": "ecs",
        "ResourceId": "service/cafe-dev/cafe-dev",
        "ScalableDimension": "ecs:service:DesiredCount",
    }
    stubs[0].add_response(
        "describe_scaling_activities",
        {
            "ScalingActivities": [
                {
                    "ActivityId": str(i),
                    "Description": "d",
                    "Cause": "c",
                    "StatusCode": "Successful",
                    **common,
                    **a,
                }
                for i, a in enumerate(activities)
            ]
        },
        {"ServiceNamespace": "ecs", "ResourceId": "service/cafe-dev/cafe-dev"},
    )
    stubs[1].add_response(
        "describe_services", {"services": [service]}, {"cluster": "cafe-dev", "services": ["cafe-dev"]}
    )
    for stub in stubs:
        stub.activate()
    counter.clients = {"application-autoscaling": scaling, "ecs": ecs}
    return counter, stubs


STABLE_SERVICE = {"deployments": [{"id": "d1"}], "runningCount": 2, "desiredCount": 2}


def test_an_activity_overlapping_the_window_counts_and_one_before_it_does_not() -> None:
    counter, _ = _ecs_counter([_activity(0, 1), _activity(4, 6)], STABLE_SERVICE)
    assert counter.count(_ms(5), _ms(7)) == 1
    assert counter.noun == "scaling activities" and "cafe-dev/cafe-dev" in counter.signal


def test_an_unfinished_activity_and_a_service_still_deploying_both_count() -> None:
    deploying = {"deployments": [{"id": "d1"}, {"id": "d2"}], "runningCount": 1, "desiredCount": 2}
    counter, _ = _ecs_counter([_activity(-1, None)], deploying)
    assert counter.count(_ms(5), _ms(7)) == 2


def test_an_auto_scaling_group_with_an_instance_not_in_service_is_changing() -> None:
    counter = AsgScalingCounter("us-east-1", group="cafe-dev-asg")
    client = boto3.client("autoscaling", region_name="us-east-1")
    stub = Stubber(client)
    stub.add_response(
        "describe_scaling_activities",
        {
            "Activities": [
                {
                    "ActivityId": "a",
                    "AutoScalingGroupName": "cafe-dev-asg",
                    "Cause": "c",
                    "StatusCode": "Successful",
                    **_activity(0, 1),
                }
            ]
        },
        {"AutoScalingGroupName": "cafe-dev-asg"},
    )
    instance = {
        "InstanceId": "i-1",
        "AvailabilityZone": "us-east-1a",
        "LifecycleState": "Pending",
        "HealthStatus": "Healthy",
        "ProtectedFromScaleIn": False,
    }
    group = {
        "AutoScalingGroupName": "cafe-dev-asg",
        "MinSize": 1,
        "MaxSize": 3,
        "DesiredCapacity": 2,
        "DefaultCooldown": 300,
        "AvailabilityZones": ["us-east-1a"],
        "HealthCheckType": "ELB",
        "CreatedTime": T0,
        "Instances": [instance],
    }
    stub.add_response(
        "describe_auto_scaling_groups",
        {"AutoScalingGroups": [group]},
        {"AutoScalingGroupNames": ["cafe-dev-asg"]},
    )
    stub.activate()
    counter.clients = {"autoscaling": client}
    assert counter.count(_ms(5), _ms(7)) == 1


def test_unreadable_apis_answer_none_and_say_why() -> None:
    counter = EcsScalingCounter("us-east-1", cluster="c", service="s")
    client = boto3.client("application-autoscaling", region_name="us-east-1")
    stub = Stubber(client)
    stub.add_client_error("describe_scaling_activities", "AccessDeniedException", "not allowed")
    stub.activate()
    counter.clients = {"application-autoscaling": client}
    assert counter.count(0, 1) is None and counter.count(0, 1) is None  # asked once, then remembered
    assert "not readable" in counter.signal and "AccessDeniedException" in counter.signal


def test_the_counter_comes_from_the_deploy_outputs() -> None:
    fargate = scaling_counter("fargate", {"outputs": {"ClusterName": "c", "ServiceName": "s"}}, "us-east-1")
    ec2 = scaling_counter("ec2", {"outputs": {"AutoScalingGroupName": "g"}}, None)
    assert isinstance(fargate, EcsScalingCounter) and isinstance(ec2, AsgScalingCounter)
    assert (
        scaling_counter("ec2", {"outputs": {"InstanceId": "i-1"}}, None) is None
    )  # single instance: nothing scales
    assert scaling_counter("lambda", {"outputs": {"ClusterName": "c", "ServiceName": "s"}}, None) is None


def _held(counts: list[int]) -> list[Interval]:
    return [
        Interval(
            phase="hold",
            start_s=i,
            seconds=1,
            rate_rps=10,
            requests=10,
            errors=0,
            errors_by_cause={},
            p50_ms=5,
            p99_ms=9,
            cold_starts=c,
        )
        for i, c in enumerate(counts)
    ]


def test_the_judge_names_scaling_for_a_fleet_and_cold_starts_for_lambda() -> None:
    cfg = SettleConfig(ramp_s=0, interval_s=1)
    steady, reason = judge(_held([0, 1, 0]), cfg, "scaling activities")
    assert not steady and reason == "still scaling: 1 new scaling activities in the last 3"
    steady, reason = judge(_held([0, 0, 0]), cfg, "scaling activities")
    assert steady and "no new scaling activities" in reason
    assert judge(_held([2, 0, 0]), cfg)[1].startswith("still cold-starting: 2 new cold starts")

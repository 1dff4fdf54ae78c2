"""The runtimes' scaling settings as deployed, read from the CloudFormation templates themselves
(infra/templates/), so the simulator cannot drift from what `make deploy-*` creates."""

from __future__ import annotations

from typing import Any

from compare.aws_model.overheads import Overheads
from compare.day.fleet_sim import Policy
from infra.templates import ec2 as ec2_template
from infra.templates import fargate as fargate_template


def _default(template: dict[str, Any], name: str) -> Any:
    return template["Parameters"][name]["Default"]


def alb_ready_s() -> float:
    """A new ALB target serves after HealthyThresholdCount checks, HealthCheckIntervalSeconds apart."""
    props = fargate_template.template()["Resources"]["TargetGroup"]["Properties"]
    return float(props["HealthCheckIntervalSeconds"] * props["HealthyThresholdCount"])


def fargate_policy(overheads: Overheads, min_units: int) -> tuple[Policy, dict[str, Any]]:
    t = fargate_template.template()
    cfg = t["Resources"]["CpuTargetTracking"]["Properties"]["TargetTrackingScalingPolicyConfiguration"]
    rules = overheads["autoscaling.target_tracking"].value
    policy = Policy(
        target_pct=float(_default(t, "CpuTarget")),
        min_units=min_units,
        max_units=max(min_units, int(_default(t, "MaxCapacity"))),
        metric_period_s=float(overheads["cloudwatch.metric_period_s"].value["ecs"]),
        scale_out_cooldown_s=float(cfg["ScaleOutCooldown"]),
        scale_in_cooldown_s=float(cfg["ScaleInCooldown"]),
        scale_out_datapoints=int(rules["scale_out_datapoints"]),
        scale_in_datapoints=int(rules["scale_in_datapoints"]),
        scale_in_threshold=float(rules["scale_in_threshold"]),
    )
    facts = {
        "source": "infra/templates/fargate.py (CpuTargetTracking, parameter defaults) and the overheads file",
        "metric": cfg["PredefinedMetricSpecification"]["PredefinedMetricType"],
        "target_pct": policy.target_pct,
        "min_units": policy.min_units,
        "max_units": policy.max_units,
        "scale_out_cooldown_s": policy.scale_out_cooldown_s,
        "scale_in_cooldown_s": policy.scale_in_cooldown_s,
        "metric_period_s": policy.metric_period_s,
        "workers_per_task": int(_default(t, "WebConcurrency")),
        "alb_health_check_ready_s": alb_ready_s(),
    }
    return policy, facts


def ec2_policy(overheads: Overheads, min_units: int) -> tuple[Policy, dict[str, Any]]:
    t = ec2_template.template()
    res = t["Resources"]
    target = float(res["CpuTargetTracking"]["Properties"]["TargetTrackingConfiguration"]["TargetValue"])
    detailed = bool(res["LaunchTemplate"]["Properties"]["LaunchTemplateData"]["Monitoring"]["Enabled"])
    periods = overheads["cloudwatch.metric_period_s"].value
    rules = overheads["autoscaling.target_tracking"].value
    # EC2 Auto Scaling target tracking has no cooldown (that is for simple scaling): each new
    # instance warms up instead (the template sets none, so the group's default cooldown, 300 s).
    warmup = float(overheads["ec2.asg_instance_warmup_s"].value["value"])
    policy = Policy(
        target_pct=target,
        min_units=min_units,
        max_units=max(min_units, int(_default(t, "MaxSize"))),
        metric_period_s=float(periods["ec2_detailed" if detailed else "ec2_basic"]),
        scale_out_cooldown_s=0.0,
        scale_in_cooldown_s=0.0,
        warmup_s=warmup,
        scale_out_datapoints=int(rules["scale_out_datapoints"]),
        scale_in_datapoints=int(rules["scale_in_datapoints"]),
        scale_in_threshold=float(rules["scale_in_threshold"]),
    )
    facts = {
        "source": "infra/templates/ec2.py (scale-out mode: AutoScalingGroup, CpuTargetTracking, "
        "LaunchTemplate monitoring) and the overheads file",
        "target_pct": target,
        "min_units": policy.min_units,
        "max_units": policy.max_units,
        "detailed_monitoring": detailed,
        "metric_period_s": policy.metric_period_s,
        "cooldown_s": None,
        "instance_warmup_s": warmup,
        "scaling_rules": "target tracking: no cooldown; a new instance's CPU is left out of the "
        "group's average until it has warmed up, it counts toward the capacity a scale-out adds to, "
        "and scale-in waits for every warm-up to end",
        "health_check_grace_s": float(res["AutoScalingGroup"]["Properties"]["HealthCheckGracePeriod"]),
        "alb_health_check_ready_s": alb_ready_s(),
    }
    return policy, facts


def default_instance_type() -> str:
    return ec2_template.DEFAULT_INSTANCE_TYPE

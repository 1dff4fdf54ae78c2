"""The internet-facing Application Load Balancer (and its target group) both server runtimes use."""

from __future__ import annotations

from infra.cfn import Json, checkov_skips, get_att, ref, tags


def load_balancer(destroy_target: str, *extra_skips: tuple[str, str], condition: str | None = None) -> Json:
    """An ALB in ``SubnetIds`` behind ``AlbSecurityGroup``, dropping malformed headers."""
    resource: Json = {
        "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "Metadata": checkov_skips(
            ("CKV_AWS_91", "Access logs need a log bucket; CloudWatch metrics suffice for a demo."),
            ("CKV_AWS_150", f"Deletion protection would block make {destroy_target}."),
            ("CKV2_AWS_28", "No WAF: a web ACL costs $5/month + rules; out of scope for a demo."),
            *extra_skips,
        ),
        "Properties": {
            "Type": "application",
            "Scheme": "internet-facing",
            "Subnets": ref("SubnetIds"),
            "SecurityGroups": [get_att("AlbSecurityGroup", "GroupId")],
            "LoadBalancerAttributes": [
                {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"}
            ],
            "Tags": tags(ref("Stage")),
        },
    }
    if condition:
        resource["Condition"] = condition
    return resource


def target_group(port: Json, target_type: str, condition: str | None = None) -> Json:
    """HTTP targets checked on ``/health`` (the same path the container's HEALTHCHECK uses)."""
    resource: Json = {
        "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
        "Properties": {
            "VpcId": ref("VpcId"),
            "Protocol": "HTTP",
            "Port": port,
            "TargetType": target_type,
            "HealthCheckPath": "/health",
            "HealthCheckIntervalSeconds": 10,
            "HealthyThresholdCount": 2,
            "UnhealthyThresholdCount": 3,
            "Matcher": {"HttpCode": "200"},
            "TargetGroupAttributes": [{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}],
            "Tags": tags(ref("Stage")),
        },
    }
    if condition:
        resource["Condition"] = condition
    return resource

"""The internet-facing Application Load Balancer both server runtimes use: the ALB, its target
group, its listeners (HTTP, or HTTPS with an ACM certificate and HTTP redirecting), the optional
WAF rate-based rule, and the parameters and conditions those need.

Each function takes the stack's condition for "there is an ALB" (Fargate always has one; EC2 only
in scale-out mode) so both templates get the same listeners, TLS policy and WAF rule.
"""

from __future__ import annotations

from typing import Final

from infra.cfn import Json, and_, checkov_skips, condition, equals, get_att, if_, not_, ref, tags

#: TLS 1.3 with TLS 1.2 fallback, AWS's recommended ALB policy.
SSL_POLICY: Final = "ELBSecurityPolicy-TLS13-1-2-2021-06"
REDIRECT_TO_HTTPS: Final = {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}


def parameters() -> Json:
    return {
        "CertificateArn": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": "^(arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+)?$",
            "Description": "Optional ACM certificate (same region) for the ALB: adds HTTPS on 443 "
            "and makes HTTP on 80 redirect to it. Empty = HTTP only.",
        },
        "WafRateLimit": {
            "Type": "Number",
            "Default": 0,
            "MinValue": 0,
            "MaxValue": 2000000000,
            "Description": "Optional AWS WAF rate-based rule on the ALB: block a client IP above "
            "this many requests per 5 minutes (AWS's minimum is 10). 0 = no web ACL (the default; "
            "a web ACL costs $5/month + $1/rule + per request).",
        },
    }


def conditions(alb_condition: str | None) -> Json:
    """``HasCertificate``/``HasWaf``, each true only where the stack has an ALB at all."""
    has_cert = not_(equals(ref("CertificateArn"), ""))
    has_waf = not_(equals(ref("WafRateLimit"), 0))
    if alb_condition:
        has_cert = and_(condition(alb_condition), has_cert)
        has_waf = and_(condition(alb_condition), has_waf)
    return {"HasCertificate": has_cert, "HasWaf": has_waf}


def _with_condition(resource: Json, name: str | None) -> Json:
    if name:
        resource["Condition"] = name
    return resource


#: The ALB's idle timeout (seconds): longer than the live stream's heartbeat interval.
IDLE_TIMEOUT_SECONDS = 60


def load_balancer(destroy_target: str, *extra_skips: tuple[str, str], condition: str | None = None) -> Json:
    """An ALB in ``SubnetIds`` behind ``AlbSecurityGroup``, dropping malformed headers."""
    resource: Json = {
        "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "Metadata": checkov_skips(
            ("CKV_AWS_91", "Access logs need a log bucket; CloudWatch metrics suffice for a demo."),
            ("CKV_AWS_150", f"Deletion protection would block make {destroy_target}."),
            (
                "CKV2_AWS_28",
                "The WAF web ACL is optional (WafRateLimit > 0): it costs $5/month + rules, off by default.",
            ),
            *extra_skips,
        ),
        "Properties": {
            "Type": "application",
            "Scheme": "internet-facing",
            "Subnets": ref("SubnetIds"),
            "SecurityGroups": [get_att("AlbSecurityGroup", "GroupId")],
            "LoadBalancerAttributes": [
                {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
                # Set on purpose (it is also the default): the live stream's heartbeat
                # (cafe.live.HEARTBEAT_SECONDS, 15 s) must come well inside it, or the ALB
                # closes an idle server-sent-events connection.
                {"Key": "idle_timeout.timeout_seconds", "Value": str(IDLE_TIMEOUT_SECONDS)},
            ],
            "Tags": tags(ref("Stage")),
        },
    }
    return _with_condition(resource, condition)


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
    return _with_condition(resource, condition)


def listeners(condition: str | None = None) -> Json:
    """HTTP on 80 (forwarding, or redirecting to HTTPS when there is a certificate), HTTPS on 443,
    and ``ListenerReady``: whatever registers targets (the ECS service, the Auto Scaling group)
    depends on it, and through its Metadata on whichever listener attaches the target group —
    DependsOn cannot name a resource that a condition may leave out."""
    return {
        "HttpListener": _with_condition(
            {
                "Type": "AWS::ElasticLoadBalancingV2::Listener",
                "Metadata": checkov_skips(
                    ("CKV_AWS_2", "HTTP forwards only without a CertificateArn; with one it redirects."),
                    ("CKV_AWS_103", "HTTP listener: no TLS policy applies."),
                ),
                "Properties": {
                    "LoadBalancerArn": ref("LoadBalancer"),
                    "Port": 80,
                    "Protocol": "HTTP",
                    "DefaultActions": [
                        if_(
                            "HasCertificate",
                            {"Type": "redirect", "RedirectConfig": REDIRECT_TO_HTTPS},
                            {"Type": "forward", "TargetGroupArn": ref("TargetGroup")},
                        )
                    ],
                },
            },
            condition,
        ),
        "HttpsListener": {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Condition": "HasCertificate",
            "Properties": {
                "LoadBalancerArn": ref("LoadBalancer"),
                "Port": 443,
                "Protocol": "HTTPS",
                "SslPolicy": SSL_POLICY,
                "Certificates": [{"CertificateArn": ref("CertificateArn")}],
                "DefaultActions": [{"Type": "forward", "TargetGroupArn": ref("TargetGroup")}],
            },
        },
        "ListenerReady": _with_condition(
            {
                "Type": "AWS::CloudFormation::WaitConditionHandle",
                "Metadata": {
                    "ForwardingListener": if_("HasCertificate", ref("HttpsListener"), ref("HttpListener"))
                },
            },
            condition,
        ),
    }


def waf() -> Json:
    """A regional web ACL with one rate-based rule per client IP, on the ALB (``HasWaf``)."""
    return {
        "WebAcl": {
            "Type": "AWS::WAFv2::WebACL",
            "Condition": "HasWaf",
            "Metadata": checkov_skips(
                (
                    "CKV_AWS_192",
                    "The app runs no Java (no Log4j); the ACL holds only the rate rule asked for.",
                ),
                ("CKV2_AWS_31", "WAF logging needs a Firehose or log bucket; the rule's metrics suffice."),
            ),
            "Properties": {
                "Scope": "REGIONAL",
                "DefaultAction": {"Allow": {}},
                "Rules": [
                    {
                        "Name": "rate-limit-per-ip",
                        "Priority": 0,
                        "Action": {"Block": {}},
                        "Statement": {
                            "RateBasedStatement": {"Limit": ref("WafRateLimit"), "AggregateKeyType": "IP"}
                        },
                        "VisibilityConfig": {
                            "SampledRequestsEnabled": True,
                            "CloudWatchMetricsEnabled": True,
                            "MetricName": "cafe-rate-limit",
                        },
                    }
                ],
                "VisibilityConfig": {
                    "SampledRequestsEnabled": True,
                    "CloudWatchMetricsEnabled": True,
                    "MetricName": "cafe-web-acl",
                },
                "Tags": tags(ref("Stage")),
            },
        },
        "WebAclAssociation": {
            "Type": "AWS::WAFv2::WebACLAssociation",
            "Condition": "HasWaf",
            "Properties": {"ResourceArn": ref("LoadBalancer"), "WebACLArn": get_att("WebAcl", "Arn")},
        },
    }


def url() -> Json:
    """The ALB's base URL: https when there is a certificate."""
    return if_(
        "HasCertificate",
        {"Fn::Sub": "https://${LoadBalancer.DNSName}"},
        {"Fn::Sub": "http://${LoadBalancer.DNSName}"},
    )

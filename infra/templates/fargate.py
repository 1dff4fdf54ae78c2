"""Fargate stack: ECR repository, ECS cluster, task definition, service behind an ALB, scaling.

The task definition, service and scaling exist only once ``ImageTag`` is set: the first
``make deploy-fargate`` deploys without it (so the repository exists), pushes the image, then
deploys again with the tag. Every later deploy is one update with the new tag: a new task
definition revision and a rolling deployment of the same service (circuit breaker with rollback,
never below the desired count), so a redeploy neither deletes the service nor drops traffic.

``lab=True`` (``make ... LAB=1``) creates no IAM role: the task and execution roles are the
Learner Lab's existing ``LabRole`` (a parameter).
"""

from __future__ import annotations

from typing import Final

from infra import lab as learner_lab
from infra import policy, runtime_env
from infra.cfn import Json, checkov_skips, equals, get_att, if_, not_, ref, sub, tags
from infra.templates import alb

CONTAINER: Final = "cafe"
#: Valid Linux Fargate task sizes: CPU units → memory (MiB), smallest first (AWS's table of
#: supported combinations; any other pair is refused by ECS at deploy time).
SIZES: Final = {
    256: [512, 1024, 2048],
    512: [1024, 2048, 3072, 4096],
    1024: list(range(2048, 8192 + 1, 1024)),
    2048: list(range(4096, 16384 + 1, 1024)),
    4096: list(range(8192, 30720 + 1, 1024)),
}
#: Fargate platform version: 1.4.0 is the first that runs ARM64 tasks on Fargate Spot (ECS API
#: reference, CapacityProviderStrategyItem) and the one LATEST resolves to for Linux today;
#: pinned so a UseSpot deploy cannot land on an older platform.
PLATFORM_VERSION: Final = "1.4.0"
DEFAULT_CPU: Final = 256
DEFAULT_MEMORY: Final = 512


#: `python -m fargate.serve` answers /health; the probe uses python because the image has no curl.
HEALTH_PROBE: Final = (
    "import os,sys,urllib.request as u; "
    "sys.exit(0 if u.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT','8080')}/health\", timeout=3)"
    ".status == 200 else 1)"
)
DESCRIPTION = "Cafe Compute Fargate runtime: ECR, ECS cluster/service (ARM64), ALB, autoscaling"


class TaskSizeError(ValueError):
    """A CPU/memory pair Fargate does not offer."""


def check_size(cpu: int, memory: int) -> None:
    """Refuse a pair ECS would refuse, naming the valid memory sizes for that CPU."""
    if cpu not in SIZES:
        raise TaskSizeError(f"Fargate Cpu must be one of {', '.join(map(str, SIZES))}; got {cpu}")
    if memory not in SIZES[cpu]:
        allowed = ", ".join(map(str, SIZES[cpu]))
        raise TaskSizeError(f"a Fargate task with Cpu={cpu} takes Memory (MiB) of {allowed}; got {memory}")


def _parameters(lab: bool) -> Json:
    memory = sorted({m for sizes in SIZES.values() for m in sizes})
    return {
        **(learner_lab.role_parameter() if lab else {}),
        **alb.parameters(),
        **runtime_env.staff_over_http_parameter(),
        "Stage": {
            "Type": "String",
            "Default": "dev",
            "AllowedPattern": "^[a-z][a-z0-9-]{0,15}$",
            "Description": "Deployment stage.",
        },
        "TableName": {
            "Type": "String",
            "AllowedPattern": "^[A-Za-z0-9_.-]{3,255}$",
            "Description": "The shared DynamoDB table (output of the data stack).",
        },
        "TokenParameter": {
            "Type": "String",
            "AllowedPattern": "^/[A-Za-z0-9/_.-]+$",
            "Description": "SSM SecureString with the staff token (injected as a secret).",
        },
        "ImageTag": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": "^[A-Za-z0-9_.-]{0,128}$",
            "Description": "Image tag in this stack's repository; empty = no service yet.",
        },
        "VpcId": {"Type": "AWS::EC2::VPC::Id", "Description": "VPC (make uses the default VPC)."},
        "SubnetIds": {
            "Type": "List<AWS::EC2::Subnet::Id>",
            "Description": "Subnets in two or more AZs for the ALB and the tasks.",
        },
        "AssignPublicIp": {
            "Type": "String",
            "Default": "ENABLED",
            "AllowedValues": ["ENABLED", "DISABLED"],
            "Description": "Public IPs let tasks in public subnets pull from ECR without a "
            "NAT gateway; DISABLED needs private subnets with NAT or VPC endpoints.",
        },
        "Cpu": {
            "Type": "Number",
            "Default": DEFAULT_CPU,
            "AllowedValues": list(SIZES),
            "Description": "Task CPU units (256 = 0.25 vCPU, the smallest).",
        },
        "Memory": {
            "Type": "Number",
            "Default": DEFAULT_MEMORY,
            "AllowedValues": memory,
            "Description": "Task memory MiB (512 with 256 CPU is the smallest task).",
        },
        "CpuArchitecture": {
            "Type": "String",
            "Default": "ARM64",
            "AllowedValues": ["ARM64", "X86_64"],
            "Description": "Task CPU architecture (the image is built for it).",
        },
        "UseSpot": {
            "Type": "String",
            "Default": "false",
            "AllowedValues": ["true", "false"],
            "Description": "Run tasks on Fargate Spot (ARM64 or X86_64, platform 1.4.0; a task "
            "may be stopped with two minutes' warning).",
        },
        "ContainerPort": {
            "Type": "Number",
            "Default": 8080,
            "MinValue": 1024,
            "MaxValue": 65535,
            "Description": "PORT the container listens on.",
        },
        "WebConcurrency": {
            "Type": "Number",
            "Default": 1,
            "MinValue": 1,
            "MaxValue": 8,
            "Description": "WEB_CONCURRENCY: server worker processes per task.",
        },
        "MinCapacity": {
            "Type": "Number",
            "Default": 1,
            "MinValue": 1,
            "MaxValue": 20,
            "Description": "Autoscaling minimum (and initial) task count.",
        },
        "MaxCapacity": {
            "Type": "Number",
            "Default": 4,
            "MinValue": 1,
            "MaxValue": 50,
            "Description": "Autoscaling maximum task count.",
        },
        "CpuTarget": {
            "Type": "Number",
            "Default": 60,
            "MinValue": 10,
            "MaxValue": 90,
            "Description": "Target average CPU % for target-tracking scaling.",
        },
        "LogRetentionDays": {
            "Type": "Number",
            "Default": 14,
            "AllowedValues": [1, 3, 5, 7, 14, 30, 60, 90, 180, 365],
            "Description": "Days CloudWatch keeps the task logs.",
        },
    }


def _rules() -> Json:
    """One rule per CPU size: the memory must be one Fargate pairs with it."""
    return {
        f"MemoryFitsCpu{cpu}": {
            "RuleCondition": equals(ref("Cpu"), str(cpu)),
            "Assertions": [
                {
                    "Assert": {"Fn::Contains": [[str(m) for m in memory], ref("Memory")]},
                    "AssertDescription": f"Cpu {cpu} takes Memory of {', '.join(map(str, memory))} MiB",
                }
            ],
        }
        for cpu, memory in SIZES.items()
    }


def _container() -> Json:
    env = {
        "CAFE_STORE": "dynamodb",
        "CAFE_TABLE": ref("TableName"),
        "PORT": ref("ContainerPort"),
        "WEB_CONCURRENCY": ref("WebConcurrency"),
        "AWS_REGION": ref("AWS::Region"),
        **runtime_env.POWERTOOLS,
        "CAFE_STAGE": ref("Stage"),
        runtime_env.STAFF_REQUIRE_HTTPS: runtime_env.staff_require_https(),
    }
    return {
        "Name": CONTAINER,
        "Image": sub("${Repository.RepositoryUri}:${ImageTag}"),
        "Essential": True,
        "PortMappings": [{"ContainerPort": ref("ContainerPort"), "Protocol": "tcp"}],
        "Environment": [{"Name": name, "Value": value} for name, value in env.items()],
        "Secrets": [
            {"Name": "CAFE_STAFF_TOKEN", "ValueFrom": policy.token_parameter_arn(ref("TokenParameter"))}
        ],
        "LogConfiguration": {
            "LogDriver": "awslogs",
            "Options": {
                "awslogs-group": ref("LogGroup"),
                "awslogs-region": ref("AWS::Region"),
                "awslogs-stream-prefix": CONTAINER,
            },
        },
        "HealthCheck": {
            "Command": ["CMD", "python", "-c", HEALTH_PROBE],
            "Interval": 15,
            "Timeout": 5,
            "Retries": 3,
            "StartPeriod": 20,
        },
        "ReadonlyRootFilesystem": True,
        # Writable scratch (gunicorn/uvicorn temp files) on an otherwise read-only root.
        "MountPoints": [{"SourceVolume": "tmp", "ContainerPath": "/tmp", "ReadOnly": False}],  # noqa: S108
        "StopTimeout": 30,
    }


def _roles() -> Json:
    assume = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "ArnLike": {
                        "aws:SourceArn": sub("arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:*")
                    }
                },
            }
        ],
    }
    return {
        "ExecutionRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": "Cafe Fargate: pull the image, write logs, read the staff token",
                "AssumeRolePolicyDocument": assume,
                "ManagedPolicyArns": [
                    sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")
                ],
                "Policies": [
                    {
                        "PolicyName": "staff-token",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": ["ssm:GetParameters"],
                                    "Resource": policy.token_parameter_arn(ref("TokenParameter")),
                                }
                            ],
                        },
                    }
                ],
                "Tags": tags(ref("Stage")),
            },
        },
        "TaskRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": "Cafe Fargate task: the order table and its index only",
                "AssumeRolePolicyDocument": assume,
                "Policies": [
                    {
                        "PolicyName": "cafe-runtime",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": policy.table_statements(ref("TableName")),
                        },
                    }
                ],
                "Tags": tags(ref("Stage")),
            },
        },
    }


def _network() -> Json:
    return {
        "AlbSecurityGroup": {
            "Type": "AWS::EC2::SecurityGroup",
            "Metadata": checkov_skips(("CKV_AWS_260", "The ALB is the public front door: HTTP is open.")),
            "Properties": {
                "GroupDescription": "Cafe Fargate ALB: HTTP and HTTPS from anywhere",
                "VpcId": ref("VpcId"),
                "SecurityGroupIngress": [
                    {
                        "IpProtocol": "tcp",
                        "FromPort": 80,
                        "ToPort": 80,
                        "CidrIp": "0.0.0.0/0",
                        "Description": "HTTP",
                    },
                    {
                        "IpProtocol": "tcp",
                        "FromPort": 443,
                        "ToPort": 443,
                        "CidrIp": "0.0.0.0/0",
                        "Description": "HTTPS",
                    },
                ],
                "Tags": tags(ref("Stage")),
            },
        },
        "AlbToTasks": {
            "Type": "AWS::EC2::SecurityGroupEgress",
            "Properties": {
                "GroupId": get_att("AlbSecurityGroup", "GroupId"),
                "IpProtocol": "tcp",
                "FromPort": ref("ContainerPort"),
                "ToPort": ref("ContainerPort"),
                "DestinationSecurityGroupId": get_att("TaskSecurityGroup", "GroupId"),
                "Description": "to the tasks' container port",
            },
        },
        "TaskSecurityGroup": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": "Cafe Fargate tasks: only the ALB may connect",
                "VpcId": ref("VpcId"),
                "SecurityGroupIngress": [
                    {
                        "IpProtocol": "tcp",
                        "FromPort": ref("ContainerPort"),
                        "ToPort": ref("ContainerPort"),
                        "SourceSecurityGroupId": get_att("AlbSecurityGroup", "GroupId"),
                        "Description": "from the ALB",
                    }
                ],
                "SecurityGroupEgress": [
                    {
                        "IpProtocol": "tcp",
                        "FromPort": 443,
                        "ToPort": 443,
                        "CidrIp": "0.0.0.0/0",
                        "Description": "HTTPS: ECR, DynamoDB, SSM, CloudWatch Logs",
                    }
                ],
                "Tags": tags(ref("Stage")),
            },
        },
        "LoadBalancer": alb.load_balancer("destroy-fargate"),
        "TargetGroup": alb.target_group(ref("ContainerPort"), "ip"),
        **alb.listeners(),
        **alb.waf(),
    }


def template(lab: bool = False) -> Json:
    roles: Json = (
        {"TaskRoleArn": learner_lab.role_arn(), "ExecutionRoleArn": learner_lab.role_arn()}
        if lab
        else {"TaskRoleArn": get_att("TaskRole", "Arn"), "ExecutionRoleArn": get_att("ExecutionRole", "Arn")}
    )
    resources: Json = {
        "Repository": {
            "Type": "AWS::ECR::Repository",
            "Metadata": checkov_skips(
                (
                    "CKV_AWS_136",
                    "AES256 (ECR default) encryption; a customer managed KMS key adds cost "
                    "without a benefit for a public demo image.",
                ),
            ),
            "Properties": {
                "RepositoryName": sub("cafe-${Stage}"),
                "ImageTagMutability": "IMMUTABLE",
                "ImageScanningConfiguration": {"ScanOnPush": True},
                "EncryptionConfiguration": {"EncryptionType": "AES256"},
                "EmptyOnDelete": True,
                "LifecyclePolicy": {
                    "LifecyclePolicyText": (
                        '{"rules":[{"rulePriority":1,"description":"keep the last 10 images",'
                        '"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":10},'
                        '"action":{"type":"expire"}}]}'
                    )
                },
                "Tags": tags(ref("Stage")),
            },
        },
        "Cluster": {
            "Type": "AWS::ECS::Cluster",
            "Metadata": checkov_skips(
                (
                    "CKV_AWS_65",
                    "Container Insights is billed per metric; the ALB and service metrics "
                    "suffice here. Turn it on in ClusterSettings when investigating.",
                ),
            ),
            "Properties": {
                "ClusterName": sub("cafe-${Stage}"),
                "CapacityProviders": ["FARGATE", "FARGATE_SPOT"],
                "DefaultCapacityProviderStrategy": [{"CapacityProvider": "FARGATE", "Weight": 1}],
                "ClusterSettings": [{"Name": "containerInsights", "Value": "disabled"}],
                "Tags": tags(ref("Stage")),
            },
        },
        "LogGroup": {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Metadata": checkov_skips(
                ("CKV_AWS_158", "Logs hold no secrets; the default CloudWatch encryption suffices."),
                ("CKV_AWS_338", "Retention is a parameter (default 14 days) to keep log storage cheap."),
            ),
            "Properties": {
                "LogGroupName": sub("/cafe/${Stage}/fargate"),
                "RetentionInDays": ref("LogRetentionDays"),
            },
        },
        **({} if lab else _roles()),
        "TaskDefinition": {
            "Type": "AWS::ECS::TaskDefinition",
            "Condition": "HasImage",
            "Properties": {
                "Family": sub("cafe-${Stage}"),
                "RequiresCompatibilities": ["FARGATE"],
                "NetworkMode": "awsvpc",
                "Cpu": ref("Cpu"),
                "Memory": ref("Memory"),
                "RuntimePlatform": {
                    "OperatingSystemFamily": "LINUX",
                    "CpuArchitecture": ref("CpuArchitecture"),
                },
                **roles,
                "ContainerDefinitions": [_container()],
                "Volumes": [{"Name": "tmp"}],
                "Tags": tags(ref("Stage")),
            },
        },
        **_network(),
        "Service": {
            "Type": "AWS::ECS::Service",
            "Condition": "HasImage",
            # the listener that forwards to the target group must exist before ECS registers tasks
            "DependsOn": ["ListenerReady"],
            "Properties": {
                "ServiceName": sub("cafe-${Stage}"),
                "Cluster": ref("Cluster"),
                "TaskDefinition": ref("TaskDefinition"),
                "DesiredCount": ref("MinCapacity"),
                "CapacityProviderStrategy": [
                    {"CapacityProvider": if_("Spot", "FARGATE_SPOT", "FARGATE"), "Weight": 1}
                ],
                "PlatformVersion": PLATFORM_VERSION,
                "NetworkConfiguration": {
                    "AwsvpcConfiguration": {
                        "AssignPublicIp": ref("AssignPublicIp"),
                        "SecurityGroups": [get_att("TaskSecurityGroup", "GroupId")],
                        "Subnets": ref("SubnetIds"),
                    }
                },
                "LoadBalancers": [
                    {
                        "ContainerName": CONTAINER,
                        "ContainerPort": ref("ContainerPort"),
                        "TargetGroupArn": ref("TargetGroup"),
                    }
                ],
                "HealthCheckGracePeriodSeconds": 30,
                # A new image is a new task definition revision rolled out in place: new tasks
                # start beside the old (200 %), old ones stop only once new ones are healthy
                # (100 %); a deployment that never gets healthy rolls back on its own.
                "DeploymentController": {"Type": "ECS"},
                "DeploymentConfiguration": {
                    "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True},
                    "MinimumHealthyPercent": 100,
                    "MaximumPercent": 200,
                },
                "EnableECSManagedTags": True,
                "PropagateTags": "SERVICE",
                "Tags": tags(ref("Stage")),
            },
        },
        "ScalableTarget": {
            "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
            "Condition": "HasImage",
            "Properties": {
                "ServiceNamespace": "ecs",
                "ScalableDimension": "ecs:service:DesiredCount",
                "ResourceId": sub("service/${Cluster}/${Service.Name}"),
                "MinCapacity": ref("MinCapacity"),
                "MaxCapacity": ref("MaxCapacity"),
            },
        },
        "CpuTargetTracking": {
            "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
            "Condition": "HasImage",
            "Properties": {
                "PolicyName": sub("cafe-${Stage}-cpu"),
                "PolicyType": "TargetTrackingScaling",
                "ScalingTargetId": ref("ScalableTarget"),
                "TargetTrackingScalingPolicyConfiguration": {
                    "PredefinedMetricSpecification": {
                        "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
                    },
                    "TargetValue": ref("CpuTarget"),
                    "ScaleInCooldown": 120,
                    "ScaleOutCooldown": 60,
                },
            },
        },
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": DESCRIPTION,
        "Parameters": _parameters(lab),
        "Mappings": runtime_env.staff_mapping(),
        "Rules": _rules(),
        "Conditions": {
            "HasImage": not_(equals(ref("ImageTag"), "")),
            "Spot": equals(ref("UseSpot"), "true"),
            **alb.conditions(None),
        },
        "Resources": resources,
        "Outputs": {
            "Url": {
                "Description": "base URL of the service (the ALB)",
                "Value": alb.url(),
            },
            "RepositoryUri": {"Value": get_att("Repository", "RepositoryUri")},
            "ClusterName": {"Value": ref("Cluster")},
            "ServiceName": {"Condition": "HasImage", "Value": get_att("Service", "Name")},
            "LogGroupName": {"Value": ref("LogGroup")},
            "TaskDefinitionArn": {"Condition": "HasImage", "Value": ref("TaskDefinition")},
        },
    }

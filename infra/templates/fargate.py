"""Fargate stack: ECR repository, ECS cluster, task definition, service behind an ALB, scaling.

The task definition, service and scaling exist only once ``ImageTag`` is set: ``make deploy-fargate`` first
deploys without it (so the repository exists), pushes the image, then deploys again with the tag.
"""

from __future__ import annotations

from typing import Final

from infra import policy, runtime_env
from infra.cfn import Json, checkov_skips, equals, get_att, if_, not_, ref, sub, tags
from infra.templates import alb

CONTAINER: Final = "cafe"
#: Valid Fargate cpu units → memory sizes (MiB), smallest first.
SIZES: Final = {256: [512, 1024, 2048], 512: [1024, 2048, 3072, 4096], 1024: [2048, 3072, 4096, 8192]}
#: `python -m fargate.serve` answers /health; the probe uses python because the image has no curl.
HEALTH_PROBE: Final = (
    "import os,sys,urllib.request as u; "
    "sys.exit(0 if u.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT','8080')}/health\", timeout=3)"
    ".status == 200 else 1)"
)
DESCRIPTION = "Cafe Compute Fargate runtime: ECR, ECS cluster/service (ARM64), ALB, autoscaling"


def _parameters() -> Json:
    memory = sorted({m for sizes in SIZES.values() for m in sizes})
    return {
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
            "Default": 256,
            "AllowedValues": list(SIZES),
            "Description": "Task CPU units (256 = 0.25 vCPU, the smallest).",
        },
        "Memory": {
            "Type": "Number",
            "Default": 512,
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
            "Description": "Run tasks on Fargate Spot (x86_64 only; may be interrupted).",
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
        "CertificateArn": {
            "Type": "String",
            "Default": "",
            "Description": "Optional ACM certificate: adds HTTPS on 443 and redirects 80.",
        },
    }


def _rules() -> Json:
    return {
        "SpotNeedsX86": {
            "RuleCondition": equals(ref("UseSpot"), "true"),
            "Assertions": [
                {
                    "Assert": equals(ref("CpuArchitecture"), "X86_64"),
                    "AssertDescription": "Fargate Spot runs X86_64 tasks only",
                }
            ],
        }
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
        "HttpListener": {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Metadata": checkov_skips(
                ("CKV_AWS_2", "HTTP forwards only when no CertificateArn is given; with one it redirects."),
                ("CKV_AWS_103", "HTTP listener: no TLS policy applies."),
            ),
            "Properties": {
                "LoadBalancerArn": ref("LoadBalancer"),
                "Port": 80,
                "Protocol": "HTTP",
                "DefaultActions": [
                    if_(
                        "HasCertificate",
                        {
                            "Type": "redirect",
                            "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
                        },
                        {"Type": "forward", "TargetGroupArn": ref("TargetGroup")},
                    )
                ],
            },
        },
        "HttpsListener": {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Condition": "HasCertificate",
            "Properties": {
                "LoadBalancerArn": ref("LoadBalancer"),
                "Port": 443,
                "Protocol": "HTTPS",
                "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
                "Certificates": [{"CertificateArn": ref("CertificateArn")}],
                "DefaultActions": [{"Type": "forward", "TargetGroupArn": ref("TargetGroup")}],
            },
        },
    }


def template() -> Json:
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
        **_roles(),
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
                "ExecutionRoleArn": get_att("ExecutionRole", "Arn"),
                "TaskRoleArn": get_att("TaskRole", "Arn"),
                "ContainerDefinitions": [_container()],
                "Volumes": [{"Name": "tmp"}],
                "Tags": tags(ref("Stage")),
            },
        },
        **_network(),
        "Service": {
            "Type": "AWS::ECS::Service",
            "Condition": "HasImage",
            "DependsOn": ["HttpListener"],
            "Properties": {
                "ServiceName": sub("cafe-${Stage}"),
                "Cluster": ref("Cluster"),
                "TaskDefinition": ref("TaskDefinition"),
                "DesiredCount": ref("MinCapacity"),
                "CapacityProviderStrategy": [
                    {"CapacityProvider": if_("Spot", "FARGATE_SPOT", "FARGATE"), "Weight": 1}
                ],
                "PlatformVersion": "LATEST",
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
        "Parameters": _parameters(),
        "Rules": _rules(),
        "Conditions": {
            "HasImage": not_(equals(ref("ImageTag"), "")),
            "Spot": equals(ref("UseSpot"), "true"),
            "HasCertificate": not_(equals(ref("CertificateArn"), "")),
        },
        "Resources": resources,
        "Outputs": {
            "Url": {
                "Description": "base URL of the service (the ALB)",
                "Value": if_(
                    "HasCertificate",
                    sub("https://${LoadBalancer.DNSName}"),
                    sub("http://${LoadBalancer.DNSName}"),
                ),
            },
            "RepositoryUri": {"Value": get_att("Repository", "RepositoryUri")},
            "ClusterName": {"Value": ref("Cluster")},
            "ServiceName": {"Condition": "HasImage", "Value": get_att("Service", "Name")},
            "LogGroupName": {"Value": ref("LogGroup")},
            "TaskDefinitionArn": {"Condition": "HasImage", "Value": ref("TaskDefinition")},
        },
    }

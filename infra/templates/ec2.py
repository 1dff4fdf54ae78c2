"""EC2 stack: one instance (or, in scale-out mode, an Auto Scaling group behind an ALB) running
the service through the project's user-data script.

The eight launch settings of the course notes are explicit parameters, each documented in its
``Description``: AMI, instance type, network placement/addressing, IAM role, user data, storage,
security group, key pair. IMDSv2 is required on the instance and in the launch template.

The stack is done only when the app answers: the instance (``CreationPolicy``) and the Auto
Scaling group (``CreationPolicy`` + ``WaitOnResourceSignals`` on rolling updates) wait for the
user data's ``cfn-signal``, sent after ``/health`` answers — or with a failure status when any
step of the user data fails, which fails the stack instead of leaving a broken instance.

HTTPS: the ALB of scale-out mode takes ``CertificateArn`` (HTTPS on 443, HTTP redirects); a single
instance has no TLS front, so the template refuses a certificate in single mode (Rules) and, unless
``AllowStaffOverHttp`` is true, the service there refuses staff calls altogether.

``lab=True`` (``make ... LAB=1``) creates no IAM role or instance profile: instances use the
Learner Lab's existing ``LabInstanceProfile`` (a parameter), and takes the AMI as a plain
``AWS::EC2::Image::Id`` (no SSM-typed parameter, which CloudFormation would resolve with the
student's permissions on every stack operation).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from infra import ami, policy, runtime_env
from infra import lab as learner_lab
from infra.cfn import (
    NO_VALUE,
    Json,
    and_,
    checkov_skips,
    condition,
    equals,
    get_att,
    if_,
    not_,
    ref,
    sub,
    tags,
)
from infra.templates import alb

USER_DATA_SCRIPT: Final = Path(__file__).resolve().parents[2] / "ec2" / "user-data.sh"
AMI_SSM_PATH: Final = ami.SSM_PATH
#: Allowed instance types by architecture (Graviton first); the Rules keep AMI and type in step.
INSTANCE_TYPES: Final = {
    "arm64": [
        "t4g.nano",
        "t4g.micro",
        "t4g.small",
        "t4g.medium",
        "t4g.large",
        "m7g.medium",
        "m7g.large",
        "c7g.medium",
        "c7g.large",
    ],
    "x86_64": ["t3.micro", "t3.small", "t3.medium", "t3.large", "m7i.large", "c7i.large"],
}
DEFAULT_INSTANCE_TYPE: Final = "t4g.small"
DEFAULT_MIN_SIZE: Final = 2
DEFAULT_MAX_SIZE: Final = 4
#: The header lines the template writes in front of the script, in order: variable → value.
USER_DATA_SETTINGS: Final[dict[str, Json]] = {
    "CAFE_TABLE": ref("TableName"),
    "CAFE_BUNDLE_BUCKET": ref("ArtifactBucket"),
    "CAFE_BUNDLE_KEY": ref("BundleKey"),
    "CAFE_TOKEN_PARAMETER": ref("TokenParameter"),
    "CAFE_PORT": ref("AppPort"),
    "CAFE_STAGE": ref("Stage"),
    runtime_env.STAFF_REQUIRE_HTTPS: runtime_env.staff_require_https(),
    # where the user data's cfn-signal goes: this stack, and the resource waiting for it
    "CAFE_CFN_STACK": ref("AWS::StackName"),
    # (a mapping, not Fn::If on ScaleOut: the same user data is also the single instance's)
    "CAFE_CFN_RESOURCE": {"Fn::FindInMap": ["SignalledResource", ref("Mode"), "LogicalId"]},
}
#: How long CloudFormation waits for an instance's "healthy" signal (boot + dnf + pip + start).
SIGNAL_TIMEOUT: Final = "PT15M"
DESCRIPTION = "Cafe Compute EC2 runtime: one instance (or an ASG behind an ALB) running gunicorn"


def architecture_of(instance_type: str) -> str:
    """The CPU architecture an allowed instance type needs (raises KeyError for others)."""
    for arch, types in INSTANCE_TYPES.items():
        if instance_type in types:
            return arch
    raise KeyError(f"{instance_type} is not an allowed instance type")


def user_data() -> Json:
    """Base64 of ``#!/bin/bash`` + one ``export`` per setting + the project's script, verbatim."""
    parts: list[Any] = [
        sub("#!/bin/bash\n# settings written by the CloudFormation stack ${AWS::StackName}\n")
    ]
    for variable, value in USER_DATA_SETTINGS.items():
        parts += [f"export {variable}=", value, "\n"]
    parts += ["export AWS_REGION=", ref("AWS::Region"), "\n"]
    parts.append(USER_DATA_SCRIPT.read_text(encoding="utf-8"))
    return {"Fn::Base64": {"Fn::Join": ["", parts]}}


def _parameters(lab: bool) -> Json:
    all_types = INSTANCE_TYPES["arm64"] + INSTANCE_TYPES["x86_64"]
    return {
        **(learner_lab.profile_parameter() if lab else {}),
        **alb.parameters(),
        **runtime_env.staff_over_http_parameter(),
        "Stage": {
            "Type": "String",
            "Default": "dev",
            "AllowedPattern": "^[a-z][a-z0-9-]{0,15}$",
            "Description": "Deployment stage (names, tags, log dimensions).",
        },
        "TableName": {
            "Type": "String",
            "AllowedPattern": "^[A-Za-z0-9_.-]{3,255}$",
            "Description": "The shared DynamoDB table (output of the data stack).",
        },
        "ArtifactBucket": {
            "Type": "String",
            "AllowedPattern": "^[a-z0-9.-]{3,63}$",
            "Description": "Bucket holding the app bundle (output of the data stack).",
        },
        "BundleKey": {
            "Type": "String",
            "AllowedPattern": "^[A-Za-z0-9/_.-]+$",
            "Description": "S3 key of the app bundle uploaded by make deploy-ec2 (its name "
            "carries the content hash, so a new bundle replaces the instance).",
        },
        "TokenParameter": {
            "Type": "String",
            "AllowedPattern": "^/[A-Za-z0-9/_.-]+$",
            "Description": "SSM SecureString with the staff token, read at service start.",
        },
        "Mode": {
            "Type": "String",
            "Default": "single",
            "AllowedValues": ["single", "scale-out"],
            "Description": "single: one instance with its own address. scale-out: a launch "
            "template + Auto Scaling group (MinSize..MaxSize) behind an ALB.",
        },
        # 1. AMI
        **(_lab_ami_parameter() if lab else _ami_parameters()),
        "Architecture": {
            "Type": "String",
            "Default": "arm64",
            "AllowedValues": ["arm64", "x86_64"],
            "Description": "1./2. CPU architecture of the AMI; must match InstanceType "
            "(checked by the template's Rules; make derives it from INSTANCE_TYPE).",
        },
        # 2. instance type
        "InstanceType": {
            "Type": "String",
            "Default": DEFAULT_INSTANCE_TYPE,
            "AllowedValues": all_types,
            "Description": "2. Instance type: Graviton burstable t4g.small by default.",
        },
        # 3. network
        "VpcId": {
            "Type": "AWS::EC2::VPC::Id",
            "Description": "3. Network: the VPC (make uses the default VPC unless VPC_ID is set).",
        },
        "SubnetId": {
            "Type": "AWS::EC2::Subnet::Id",
            "Description": "3. Network: the subnet (and so the Availability Zone) of the single instance.",
        },
        "SubnetIds": {
            "Type": "List<AWS::EC2::Subnet::Id>",
            "Description": "3. Network: subnets in two or more AZs for the ALB and the Auto "
            "Scaling group (scale-out mode).",
        },
        "AssociatePublicIp": {
            "Type": "String",
            "Default": "true",
            "AllowedValues": ["true", "false"],
            "Description": "3. Addressing: give instances a public IPv4 address "
            "($0.005/h). Without one they need a NAT gateway or VPC endpoints to "
            "reach S3, DynamoDB, SSM and the package repositories.",
        },
        # 6. storage
        "RootVolumeSize": {
            "Type": "Number",
            "Default": 8,
            "MinValue": 8,
            "MaxValue": 100,
            "Description": "6. Storage: root volume size in GiB (gp3, encrypted, deleted on termination).",
        },
        # 7. security group
        "AppPort": {
            "Type": "Number",
            "Default": 80,
            "MinValue": 1,
            "MaxValue": 65535,
            "Description": "7. Security group: the HTTP port gunicorn binds and the group opens.",
        },
        "HttpCidr": {
            "Type": "String",
            "Default": "0.0.0.0/0",
            "AllowedPattern": r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$",
            "Description": "7. Security group: who may reach HTTP (the instance in single "
            "mode, the ALB in scale-out mode, where instances accept only the ALB).",
        },
        "AdminCidr": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": r"^(\d{1,3}(\.\d{1,3}){3}/\d{1,2})?$",
            "Description": "7./8. SSH source range; port 22 opens only when this and KeyName are both set.",
        },
        # 8. key pair
        "KeyName": {
            "Type": "String",
            "Default": "",
            "Description": "8. Key pair: optional EC2 key pair name. Session Manager is the "
            "default way in (no key, no open port).",
        },
        # scale-out
        "MinSize": {
            "Type": "Number",
            "Default": DEFAULT_MIN_SIZE,
            "MinValue": 1,
            "MaxValue": 20,
            "Description": "Scale-out mode: minimum (and initial) number of instances.",
        },
        "MaxSize": {
            "Type": "Number",
            "Default": DEFAULT_MAX_SIZE,
            "MinValue": 1,
            "MaxValue": 20,
            "Description": "Scale-out mode: maximum number of instances (above MinSize: a rolling "
            "update adds one before it removes one).",
        },
    }


def _ami_parameters() -> Json:
    return {
        "AmiId": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": "^(ami-[0-9a-f]{8,17})?$",
            "Description": "1. AMI: an explicit AMI id. make deploy-ec2 always passes one: the "
            "AMI the stack already runs, else the current AL2023 resolved from AmiSsmParameter at "
            "deploy time, else AMI_ID / the baked AMI. Empty = resolve AmiSsmParameter on every "
            "stack operation (a newly published AMI would then replace the instance).",
        },
        "AmiSsmParameter": {
            "Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
            "Default": AMI_SSM_PATH["arm64"],
            "Description": "1. AMI: public SSM parameter of the AL2023 AMI for the "
            f"architecture ({AMI_SSM_PATH['arm64']} or {AMI_SSM_PATH['x86_64']}).",
        },
    }


def _lab_ami_parameter() -> Json:
    """Learner Lab mode: the AMI as a plain image id. An SSM-typed parameter would make
    CloudFormation read the public AMI parameter with the student's permissions on every create
    and update, and a lab may refuse that read (the deploy resolves the AMI itself, falling back
    to describe-images)."""
    return {
        "AmiId": {
            "Type": "AWS::EC2::Image::Id",
            "Description": "1. AMI: the image id make deploy-ec2 resolved (the AMI the stack already "
            "runs, AMI_ID, or the current AL2023 from SSM or describe-images).",
        }
    }


def _rules() -> Json:
    rules: Json = {
        "CertificateNeedsScaleOut": {
            "RuleCondition": not_(equals(ref("CertificateArn"), "")),
            "Assertions": [
                {
                    "Assert": equals(ref("Mode"), "scale-out"),
                    "AssertDescription": "HTTPS terminates on the ALB: CertificateArn needs Mode=scale-out",
                }
            ],
        }
    }
    for arch, types in INSTANCE_TYPES.items():
        rules[f"InstanceTypeMatches{arch.replace('_', '').capitalize()}"] = {
            "RuleCondition": equals(ref("Architecture"), arch),
            "Assertions": [
                {
                    "Assert": {"Fn::Contains": [types, ref("InstanceType")]},
                    "AssertDescription": f"Architecture {arch} needs one of: {', '.join(types)}",
                }
            ],
        }
    return rules


def _launch_data(lab: bool) -> Json:
    """Settings shared by the single instance and the launch template (one source, two users)."""
    return {
        "ImageId": ref("AmiId") if lab else if_("HasExplicitAmi", ref("AmiId"), ref("AmiSsmParameter")),
        "InstanceType": ref("InstanceType"),
        "UserData": user_data(),
        "BlockDeviceMappings": [
            {
                "DeviceName": "/dev/xvda",
                "Ebs": {
                    "VolumeType": "gp3",
                    "VolumeSize": ref("RootVolumeSize"),
                    "Encrypted": True,
                    "DeleteOnTermination": True,
                },
            }
        ],
        "MetadataOptions": {
            "HttpTokens": "required",
            "HttpEndpoint": "enabled",
            "HttpPutResponseHopLimit": 1,
        },
        "KeyName": if_("HasKey", ref("KeyName"), NO_VALUE),
        "EbsOptimized": True,
    }


def _role() -> Json:
    statements = [
        *policy.table_statements(ref("TableName")),
        {
            "Sid": "AppBundle",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": sub("arn:${AWS::Partition}:s3:::${ArtifactBucket}/${BundleKey}"),
        },
        {
            "Sid": "StaffToken",
            "Effect": "Allow",
            "Action": ["ssm:GetParameter"],
            "Resource": policy.token_parameter_arn(ref("TokenParameter")),
        },
    ]
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": "Cafe EC2 instances: the order table, the app bundle, the staff token, "
            "Session Manager",
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ec2.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            "ManagedPolicyArns": [
                sub("arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"),
            ],
            "Policies": [
                {
                    "PolicyName": "cafe-runtime",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                }
            ],
            "Tags": tags(ref("Stage")),
        },
    }


def _security_groups() -> Json:
    public_http = "HTTP is the service itself and is meant to be public (HttpCidr narrows it)."
    return {
        "AlbSecurityGroup": {
            "Type": "AWS::EC2::SecurityGroup",
            "Condition": "ScaleOut",
            "Metadata": checkov_skips(("CKV_AWS_260", public_http)),
            "Properties": {
                "GroupDescription": "Cafe EC2 ALB: HTTP and HTTPS from HttpCidr",
                "VpcId": ref("VpcId"),
                "SecurityGroupIngress": [
                    {
                        "IpProtocol": "tcp",
                        "FromPort": port,
                        "ToPort": port,
                        "CidrIp": ref("HttpCidr"),
                        "Description": name,
                    }
                    for port, name in ((80, "HTTP"), (443, "HTTPS"))
                ],
                "SecurityGroupEgress": [
                    {
                        "IpProtocol": "tcp",
                        "FromPort": ref("AppPort"),
                        "ToPort": ref("AppPort"),
                        "CidrIp": "0.0.0.0/0",
                        "Description": "to the instances' app port",
                    }
                ],
                "Tags": tags(ref("Stage")),
            },
        },
        "InstanceSecurityGroup": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": "Cafe EC2 instances: app port (from HttpCidr, or only the ALB in "
                "scale-out mode); SSH only with a key pair and an admin CIDR",
                "VpcId": ref("VpcId"),
                "SecurityGroupEgress": [
                    {
                        "IpProtocol": "tcp",
                        "FromPort": 443,
                        "ToPort": 443,
                        "CidrIp": "0.0.0.0/0",
                        "Description": "HTTPS: S3, DynamoDB, SSM, CloudWatch, PyPI, dnf",
                    }
                ],
                "Tags": tags(ref("Stage")),
            },
        },
        # Ingress rules are separate resources so each exists only in the mode it belongs to.
        "HttpFromAnywhere": {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Condition": "Single",
            "Metadata": checkov_skips(("CKV_AWS_260", public_http)),
            "Properties": {
                "GroupId": get_att("InstanceSecurityGroup", "GroupId"),
                "IpProtocol": "tcp",
                "FromPort": ref("AppPort"),
                "ToPort": ref("AppPort"),
                "CidrIp": ref("HttpCidr"),
                "Description": "HTTP to the service",
            },
        },
        "HttpFromAlb": {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Condition": "ScaleOut",
            "Properties": {
                "GroupId": get_att("InstanceSecurityGroup", "GroupId"),
                "IpProtocol": "tcp",
                "FromPort": ref("AppPort"),
                "ToPort": ref("AppPort"),
                "SourceSecurityGroupId": get_att("AlbSecurityGroup", "GroupId"),
                "Description": "HTTP from the ALB only",
            },
        },
        "SshFromAdmin": {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Condition": "SshOpen",
            "Properties": {
                "GroupId": get_att("InstanceSecurityGroup", "GroupId"),
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "CidrIp": ref("AdminCidr"),
                "Description": "SSH from the admin range (key pair given)",
            },
        },
    }


def _scale_out() -> Json:
    return {
        "LoadBalancer": alb.load_balancer("destroy-ec2", condition="ScaleOut"),
        "TargetGroup": alb.target_group(ref("AppPort"), "instance", condition="ScaleOut"),
        **alb.listeners("ScaleOut"),
        **alb.waf(),
        "AutoScalingGroup": {
            "Type": "AWS::AutoScaling::AutoScalingGroup",
            "Condition": "ScaleOut",
            "DependsOn": ["ListenerReady"],
            # Created once MinSize instances have signalled healthy; a rolling update replaces one
            # instance at a time and waits for the new one's signal (a failure rolls back).
            "CreationPolicy": {"ResourceSignal": {"Count": ref("MinSize"), "Timeout": SIGNAL_TIMEOUT}},
            "UpdatePolicy": {
                "AutoScalingRollingUpdate": {
                    "MinInstancesInService": ref("MinSize"),
                    "MaxBatchSize": 1,
                    "WaitOnResourceSignals": True,
                    "PauseTime": SIGNAL_TIMEOUT,
                }
            },
            "Properties": {
                "LaunchTemplate": {
                    "LaunchTemplateId": ref("LaunchTemplate"),
                    "Version": get_att("LaunchTemplate", "LatestVersionNumber"),
                },
                "MinSize": ref("MinSize"),
                "MaxSize": ref("MaxSize"),
                "VPCZoneIdentifier": ref("SubnetIds"),
                "TargetGroupARNs": [ref("TargetGroup")],
                "HealthCheckType": "ELB",
                "HealthCheckGracePeriod": 300,
                "Tags": [{"Key": "Name", "Value": sub("cafe-ec2-${Stage}"), "PropagateAtLaunch": True}],
            },
        },
        "CpuTargetTracking": {
            "Type": "AWS::AutoScaling::ScalingPolicy",
            "Condition": "ScaleOut",
            "Properties": {
                "AutoScalingGroupName": ref("AutoScalingGroup"),
                "PolicyType": "TargetTrackingScaling",
                "TargetTrackingConfiguration": {
                    "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"},
                    "TargetValue": 60.0,
                },
            },
        },
    }


def template(lab: bool = False) -> Json:
    launch = _launch_data(lab)
    profile_name = ref(learner_lab.PROFILE_PARAMETER) if lab else ref("InstanceProfile")
    profile_for_launch_template = (
        {"Name": ref(learner_lab.PROFILE_PARAMETER)} if lab else {"Arn": get_att("InstanceProfile", "Arn")}
    )
    iam: Json = (
        {}
        if lab
        else {
            "InstanceRole": _role(),
            "InstanceProfile": {
                "Type": "AWS::IAM::InstanceProfile",
                "Properties": {"Roles": [ref("InstanceRole")]},
            },
        }
    )
    public_ip_skip = (
        "CKV_AWS_88",
        "A public address is the default (AssociatePublicIp) so the "
        "instance can serve and reach AWS APIs without a $33/month NAT gateway.",
    )
    resources: Json = {
        **iam,
        **_security_groups(),
        "LaunchTemplate": {
            "Type": "AWS::EC2::LaunchTemplate",
            "Metadata": checkov_skips(public_ip_skip),
            "Properties": {
                "LaunchTemplateName": sub("cafe-ec2-${Stage}"),
                "LaunchTemplateData": {
                    **launch,
                    "IamInstanceProfile": profile_for_launch_template,
                    "Monitoring": {"Enabled": False},
                    "NetworkInterfaces": [
                        {
                            "DeviceIndex": 0,
                            "AssociatePublicIpAddress": if_("PublicIp", True, False),
                            "Groups": [ref("InstanceSecurityGroup")],
                        }
                    ],
                    "TagSpecifications": [
                        {"ResourceType": "instance", "Tags": tags(ref("Stage"))},
                        {"ResourceType": "volume", "Tags": tags(ref("Stage"))},
                    ],
                },
            },
        },
        "Instance": {
            "Type": "AWS::EC2::Instance",
            "Condition": "Single",
            # CREATE_COMPLETE only after the user data's cfn-signal (sent once /health answers)
            "CreationPolicy": {"ResourceSignal": {"Count": 1, "Timeout": SIGNAL_TIMEOUT}},
            "Metadata": checkov_skips(
                public_ip_skip,
                ("CKV_AWS_126", "Detailed (1-minute) monitoring costs extra; 5-minute metrics suffice."),
            ),
            "Properties": {
                **launch,
                "IamInstanceProfile": profile_name,
                "Monitoring": False,
                "NetworkInterfaces": [
                    {
                        "DeviceIndex": "0",
                        "SubnetId": ref("SubnetId"),
                        # cloud-init runs user data once per instance, and a UserData change only
                        # stops/starts it: naming the bundle here (a replacement-only property)
                        # makes a new bundle launch a fresh instance that installs it.
                        "Description": sub("cafe ${Stage} ${BundleKey}"),
                        "AssociatePublicIpAddress": if_("PublicIp", True, False),
                        "GroupSet": [ref("InstanceSecurityGroup")],
                    }
                ],
                "Tags": [*tags(ref("Stage")), {"Key": "Name", "Value": sub("cafe-ec2-${Stage}")}],
            },
        },
        **_scale_out(),
    }
    instance_url = if_(
        "PublicIp",
        sub("http://${Instance.PublicIp}:${AppPort}"),
        sub("http://${Instance.PrivateIp}:${AppPort}"),
    )
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": DESCRIPTION,
        "Metadata": {
            "AWS::CloudFormation::Interface": {
                "ParameterGroups": [
                    {
                        "Label": {"default": "1-2. AMI and instance type"},
                        "Parameters": [
                            "AmiId",
                            *([] if lab else ["AmiSsmParameter"]),
                            "Architecture",
                            "InstanceType",
                        ],
                    },
                    {
                        "Label": {"default": "3. Network placement and addressing"},
                        "Parameters": ["VpcId", "SubnetId", "SubnetIds", "AssociatePublicIp"],
                    },
                    {
                        "Label": {"default": "6-8. Storage, security group, key pair"},
                        "Parameters": ["RootVolumeSize", "AppPort", "HttpCidr", "AdminCidr", "KeyName"],
                    },
                    {
                        "Label": {"default": "Application"},
                        "Parameters": [
                            "Stage",
                            "TableName",
                            "ArtifactBucket",
                            "BundleKey",
                            "TokenParameter",
                            runtime_env.STAFF_OVER_HTTP_PARAMETER,
                        ],
                    },
                    {
                        "Label": {"default": "Scale-out mode"},
                        "Parameters": ["Mode", "MinSize", "MaxSize", "CertificateArn", "WafRateLimit"],
                    },
                ]
            }
        },
        "Parameters": _parameters(lab),
        "Mappings": {
            "SignalledResource": {
                "single": {"LogicalId": "Instance"},
                "scale-out": {"LogicalId": "AutoScalingGroup"},
            },
            **runtime_env.staff_mapping(),
        },
        "Rules": _rules(),
        "Conditions": {
            **({} if lab else {"HasExplicitAmi": not_(equals(ref("AmiId"), ""))}),
            "ScaleOut": equals(ref("Mode"), "scale-out"),
            "Single": not_(equals(ref("Mode"), "scale-out")),
            "HasKey": not_(equals(ref("KeyName"), "")),
            "SshOpen": and_(condition("HasKey"), not_(equals(ref("AdminCidr"), ""))),
            "PublicIp": equals(ref("AssociatePublicIp"), "true"),
            **alb.conditions("ScaleOut"),
        },
        "Resources": resources,
        "Outputs": {
            "Url": {
                "Description": "base URL of the service",
                "Value": if_("ScaleOut", alb.url(), instance_url),
            },
            "InstanceId": {"Condition": "Single", "Value": ref("Instance")},
            "AutoScalingGroupName": {"Condition": "ScaleOut", "Value": ref("AutoScalingGroup")},
            "LaunchTemplateId": {"Value": ref("LaunchTemplate")},
            "InstanceSecurityGroupId": {"Value": get_att("InstanceSecurityGroup", "GroupId")},
            **({} if lab else {"InstanceRoleName": {"Value": ref("InstanceRole")}}),
        },
    }

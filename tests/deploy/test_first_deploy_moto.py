"""A first real deploy, against a local moto server: Fargate redeploys that update in place, the
checks that must fail before any stack changes, the EC2 AMI and subnet choices, and Learner Lab
mode (``--lab``: the lab's role and instance profile, no IAM resource created)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra import lab, service_roles

from .conftest import Aws
from .test_deploy_moto import AL2023_ARM, AL2023_X86, deployed_template, saved, stack_resources

pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")

ECS_ROLE = "AWSServiceRoleForECS"


def _stacks(aws: Aws) -> list[str]:
    listing = aws.client("cloudformation").list_stacks(
        StackStatusFilter=["CREATE_COMPLETE", "UPDATE_COMPLETE", "ROLLBACK_COMPLETE"]
    )
    return sorted(s["StackName"] for s in listing["StackSummaries"])


def _refused_before_any_stack(aws: Aws, message: str, kind: str, *params: str) -> None:
    """``deploy <kind> --stage t --param P...`` fails with ``message`` and leaves only the data stack."""
    args = [arg for param in params for arg in ("--param", param)]
    result = aws.deploy(kind, "--stage", "t", *args, check=False)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert message in result.stderr
    assert _stacks(aws) == ["cafe-data-t"]


def _has_ecs_role(aws: Aws) -> bool:
    """(moto names it AWSServiceRoleForecs; AWS AWSServiceRoleForECS: both under the ECS path)"""
    roles = aws.client("iam").list_roles(PathPrefix=service_roles.ECS.path)["Roles"]
    return any(
        r["AssumeRolePolicyDocument"] and "ecs.amazonaws.com" in json.dumps(r["AssumeRolePolicyDocument"])
        for r in roles
    )


# -- fargate ----------------------------------------------------------------------------------


def test_fargate_redeploy_updates_the_service_in_place(aws: Aws, data_stack: dict[str, Any]) -> None:
    assert not _has_ecs_role(aws)  # a brand-new account
    first = aws.deploy("fargate", "--stage", "t", "--skip-image", "--image-tag", "v1")
    assert f"created the service-linked role {ECS_ROLE}" in first.stdout
    assert _has_ecs_role(aws)
    # and the two the service's autoscaling target and load balancer need (issue 25)
    for role in service_roles.FARGATE:
        assert service_roles.has_role(aws.client("iam"), role), role.name
    assert "the barista (staff) page does not" in first.stdout and "AllowStaffOverHttp=true" in first.stdout
    ecs = aws.client("ecs")
    before = ecs.describe_services(cluster="cafe-t", services=["cafe-t"])["services"][0]
    assert before["taskDefinition"].endswith("cafe-t:1")
    resources_before = stack_resources(aws, "cafe-fargate-t")

    second = aws.deploy("fargate", "--stage", "t", "--skip-image", "--image-tag", "v2")
    # one stack update (no service-less phase), and the role is only checked
    assert second.stdout.count("updating stack cafe-fargate-t") == 1 and "creating stack" not in second.stdout
    assert "created the service-linked role" not in second.stdout
    after = ecs.describe_services(cluster="cafe-t", services=["cafe-t"])["services"][0]
    assert after["serviceArn"] == before["serviceArn"]  # the same service, not a new one
    resources_after = stack_resources(aws, "cafe-fargate-t")
    assert resources_after["Service"] == resources_before["Service"]
    assert resources_after["TaskDefinition"] == resources_before["TaskDefinition"]
    # the one update carried the new tag: CloudFormation registers a new task definition revision
    # from it and the service rolls to it (rolling deployment, circuit breaker)
    assert _stack_parameter(aws, "cafe-fargate-t", "ImageTag") == "v2"
    events = aws.client("cloudformation").describe_stack_events(StackName="cafe-fargate-t")["StackEvents"]
    for logical_id in ("Service", "TaskDefinition", "ScalableTarget"):
        statuses = {e["ResourceStatus"] for e in events if e["LogicalResourceId"] == logical_id}
        assert not [s for s in statuses if s.startswith("DELETE")], (logical_id, statuses)
    # moto's CloudFormation diffs template text, not resolved parameters, so it leaves the task
    # definition at revision 1 on a parameter-only update; AWS registers revision 2 (docs/deploy.md).
    task = ecs.describe_task_definition(taskDefinition=after["taskDefinition"])["taskDefinition"]
    assert task["status"] == "ACTIVE" and task["family"] == "cafe-t"


def test_fargate_refuses_an_invalid_task_size_before_any_stack(aws: Aws, data_stack: dict[str, Any]) -> None:
    _refused_before_any_stack(
        aws, "Cpu=256 takes Memory (MiB) of 512, 1024, 2048; got 4096", "fargate", "Cpu=256", "Memory=4096"
    )


def _fake_docker(directory: Path, platforms: str) -> None:
    """A `docker` whose buildx builder offers ``platforms`` (this machine has no engine)."""
    script = directory / "docker"
    script.write_text(
        "#!/bin/bash\n"
        'case "$1 $2" in\n'
        f'  "buildx inspect") printf "Name: default\\nPlatforms: {platforms}\\n" ;;\n'
        '  "info "|"buildx version") exit 0 ;;\n'
        '  *) echo "unexpected: $*" >&2; exit 99 ;;\n'
        "esac\n"
    )
    script.chmod(0o755)


def test_fargate_checks_the_builder_can_build_arm64_before_any_stack(
    aws: Aws,
    data_stack: dict[str, Any],
    tmp_path: Path,
) -> None:
    _fake_docker(tmp_path, "linux/amd64, linux/amd64/v2, linux/386")
    env = {**aws.env, "PATH": f"{tmp_path}:/usr/bin:/bin"}
    result = aws.run("infra.deploy", "fargate", "--stage", "t", check=False, env=env)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "cannot build linux/arm64" in result.stderr
    assert "tonistiigi/binfmt --install arm64" in result.stderr and "No stack was changed" in result.stderr
    assert _stacks(aws) == ["cafe-data-t"]
    assert not _has_ecs_role(aws)  # nothing in the account changed either


# -- ec2 --------------------------------------------------------------------------------------


def _image(aws: Aws, architecture: str, exclude: str) -> str:
    images = aws.client("ec2").describe_images(
        Owners=["amazon"], Filters=[{"Name": "architecture", "Values": [architecture]}]
    )["Images"]
    return next(i["ImageId"] for i in images if i["ImageId"] != exclude and i.get("RootDeviceType") == "ebs")


def _instance(aws: Aws) -> dict[str, Any]:
    instance_id = saved(aws, "ec2", "t")["outputs"]["InstanceId"]
    found: dict[str, Any] = aws.client("ec2").describe_instances(InstanceIds=[instance_id])["Reservations"][
        0
    ]["Instances"][0]
    return found


def _stack_parameter(aws: Aws, name: str, key: str) -> str:
    stack = aws.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    return next(p["ParameterValue"] for p in stack["Parameters"] if p["ParameterKey"] == key)


def test_ec2_passes_the_ami_explicitly_and_keeps_it_on_updates(aws: Aws, data_stack: dict[str, Any]) -> None:
    current = aws.client("ssm").get_parameter(Name=AL2023_ARM)["Parameter"]["Value"]
    aws.deploy("ec2", "--stage", "t")
    assert _stack_parameter(aws, "cafe-ec2-t", "AmiId") == current  # resolved at deploy time
    # the stack runs another (e.g. an older) arm64 AMI; an unrelated update must not move it
    other = _image(aws, "arm64", exclude=current)
    aws.deploy("ec2", "--stage", "t", "--destroy")
    aws.deploy("ec2", "--stage", "t", "--param", f"AmiId={other}")
    assert _instance(aws)["ImageId"] == other
    aws.deploy("ec2", "--stage", "t", "--param", "WafRateLimit=1000")
    assert _stack_parameter(aws, "cafe-ec2-t", "AmiId") == other
    assert _instance(aws)["ImageId"] == other


def test_ec2_refuses_an_ami_of_the_wrong_architecture(aws: Aws, data_stack: dict[str, Any]) -> None:
    x86 = aws.client("ssm").get_parameter(Name=AL2023_X86)["Parameter"]["Value"]
    _refused_before_any_stack(aws, f"AMI {x86} is x86_64 but t4g.small needs arm64", "ec2", f"AmiId={x86}")


def test_ec2_single_instance_goes_to_a_zone_that_offers_its_type(
    aws: Aws, data_stack: dict[str, Any]
) -> None:
    ec2 = aws.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = {
        s["AvailabilityZone"]: s["SubnetId"]
        for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    }
    offered = {
        o["Location"]
        for o in ec2.describe_instance_type_offerings(
            LocationType="availability-zone", Filters=[{"Name": "instance-type", "Values": ["t4g.small"]}]
        )["InstanceTypeOfferings"]
    }
    lacking = sorted(set(subnets) - offered)
    assert lacking, "expected a zone without t4g.small (us-east-1e)"
    first = subnets[lacking[0]]
    others = [subnets[zone] for zone in sorted(offered & set(subnets))]
    aws.deploy("ec2", "--stage", "t", "--param", f"VpcId={vpc}", "--param", f"SubnetIds={first},{others[0]}")
    instance = _instance(aws)
    assert instance["SubnetId"] == others[0] and instance["Placement"]["AvailabilityZone"] in offered


# -- Learner Lab --------------------------------------------------------------------------------


def _learner_lab_account(aws: Aws) -> None:
    """What a Learner Lab account already has: LabRole, LabInstanceProfile, the ECS role."""
    iam = aws.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {
                    "Service": ["ec2.amazonaws.com", "ecs-tasks.amazonaws.com", "lambda.amazonaws.com"]
                },
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName=lab.LAB_ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    iam.create_instance_profile(InstanceProfileName=lab.LAB_INSTANCE_PROFILE)
    iam.add_role_to_instance_profile(InstanceProfileName=lab.LAB_INSTANCE_PROFILE, RoleName=lab.LAB_ROLE)


def _iam_resources(aws: Aws, stack: str) -> list[str]:
    listing = aws.client("cloudformation").list_stack_resources(StackName=stack)["StackResourceSummaries"]
    return [r["LogicalResourceId"] for r in listing if r["ResourceType"] in lab.IAM_RESOURCE_TYPES]


def test_lab_mode_uses_the_labs_role_and_instance_profile(aws: Aws) -> None:
    _learner_lab_account(aws)
    aws.client("iam").create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
    roles_before = {r["RoleName"] for r in aws.client("iam").list_roles()["Roles"]}
    aws.deploy("data", "--stage", "t", "--lab", "--deletion-protection", "false")
    aws.deploy("ec2", "--stage", "t", "--lab")
    instance = _instance(aws)
    association = aws.client("ec2").describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": [instance["InstanceId"]]}]
    )["IamInstanceProfileAssociations"][0]
    assert association["IamInstanceProfile"]["Arn"].endswith(f"/{lab.LAB_INSTANCE_PROFILE}")
    aws.deploy("fargate", "--stage", "t", "--lab", "--skip-image", "--image-tag", "v1")
    task = deployed_template(aws, "cafe-fargate-t")["Resources"]["TaskDefinition"]["Properties"]
    assert task["TaskRoleArn"] == task["ExecutionRoleArn"] == lab.role_arn()
    for stack in ("cafe-data-t", "cafe-ec2-t", "cafe-fargate-t"):
        assert _iam_resources(aws, stack) == [], stack
    assert {r["RoleName"] for r in aws.client("iam").list_roles()["Roles"]} == roles_before


def test_lab_mode_refuses_a_region_outside_the_lab(aws: Aws) -> None:
    result = aws.deploy("data", "--stage", "t", "--lab", "--region", "eu-west-1", check=False)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "Learner Lab mode: a Learner Lab allows only the regions us-east-1, us-west-2" in result.stderr
    assert _stacks(aws) == []


def test_lab_mode_does_not_create_the_ecs_role(aws: Aws) -> None:
    _learner_lab_account(aws)
    aws.deploy("data", "--stage", "t", "--lab", "--deletion-protection", "false")
    result = aws.deploy("fargate", "--stage", "t", "--lab", "--skip-image", "--image-tag", "v1", check=False)
    assert result.returncode != 0
    # the preflight at the start of the lab deploy finds it missing, before anything changes
    assert "this lab refuses what make deploy-fargate needs (AWSServiceRoleForECS" in result.stderr
    assert "Traceback" not in result.stderr
    assert not _has_ecs_role(aws) and _stacks(aws) == ["cafe-data-t"]
    assert stack_resources(aws, "cafe-data-t")


def test_ec2_scale_out_needs_room_for_a_rolling_update(aws: Aws, data_stack: dict[str, Any]) -> None:
    message = "MaxSize (2) must be above MinSize (2)"
    _refused_before_any_stack(aws, message, "ec2", "Mode=scale-out", "MinSize=2", "MaxSize=2")


def test_lambda_stack_takes_throttling_and_concurrency_parameters(aws: Aws, lambda_package: Path) -> None:
    aws.deploy("data", "--stage", "dev", "--deletion-protection", "false")
    aws.deploy(
        "lambda",
        "--stage",
        "dev",
        "--package-dir",
        str(lambda_package),
        "--param",
        "ThrottleRateLimit=20",
        "--param",
        "ThrottleBurstLimit=40",
        "--param",
        "ReservedConcurrency=5",
    )
    stack = "cafe-lambda-dev"
    assert [_stack_parameter(aws, stack, k) for k in ("ThrottleRateLimit", "ThrottleBurstLimit")] == [
        "20",
        "40",
    ]
    assert _stack_parameter(aws, stack, "ReservedConcurrency") == "5"
    function = deployed_template(aws, stack)["Resources"]["APIHandler"]["Properties"]
    assert function["ReservedConcurrentExecutions"]["Fn::If"][1] == {"Ref": "ReservedConcurrency"}

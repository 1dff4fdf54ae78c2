"""Each deploy path, run unchanged (``python -m infra.deploy``) against a local moto server, and
the resources it created asserted through the AWS APIs."""

from __future__ import annotations

import ast
import base64
import json
import os
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from cafe.stores import schema
from infra import policy, runtime_env
from infra.templates import ec2 as ec2_template

from .conftest import ROOT, Aws

# moto warns for each resource type its CloudFormation skips (bucket policy, scaling policies...)
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")

AL2023_ARM = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
AL2023_X86 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"


def saved(aws: Aws, runtime: str, stage: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((aws.outputs_dir / f"{runtime}-{stage}.json").read_text())
    return data


def stack_resources(aws: Aws, stack: str) -> dict[str, str]:
    listing = aws.client("cloudformation").list_stack_resources(StackName=stack)["StackResourceSummaries"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in listing}


def deployed_template(aws: Aws, stack: str) -> dict[str, Any]:
    """The template the stack was created from (botocore already parses JSON bodies)."""
    body = aws.client("cloudformation").get_template(StackName=stack)["TemplateBody"]
    return json.loads(body) if isinstance(body, str) else dict(body)


def role_statements(aws: Aws, role_name: str) -> list[dict[str, Any]]:
    iam = aws.client("iam")
    statements: list[dict[str, Any]] = []
    for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
        if isinstance(document, str):
            # moto stores CloudFormation inline policies as Python reprs (AWS returns an object)
            text = urllib.parse.unquote(document)
            document = json.loads(text) if text.lstrip().startswith('{"') else ast.literal_eval(text)
        statements += document["Statement"]
    return statements


def assert_least_privilege(statements: list[dict[str, Any]], table: str) -> None:
    """Data actions are named one by one and scoped to the table and its indexes."""
    arn = f"arn:aws:dynamodb:us-east-1:123456789012:table/{table}"
    data = [s for s in statements if any(a.startswith("dynamodb:") for a in _as_list(s["Action"]))]
    assert {tuple(_as_list(s["Resource"])) for s in data} == {(arn,), (f"{arn}/index/*",)}
    for statement in data:
        for action in _as_list(statement["Action"]):
            assert "*" not in action, action
    actions = {a for s in data for a in _as_list(s["Action"])}
    assert actions == set(policy.TABLE_ACTIONS)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# -- data -----------------------------------------------------------------------------------


def test_data_stack_table_matches_the_schema(aws: Aws, data_stack: dict[str, Any]) -> None:
    dynamodb = aws.client("dynamodb")
    table_name = data_stack["outputs"]["TableName"]
    assert table_name == "cafe-t"
    table = dynamodb.describe_table(TableName=table_name)["Table"]
    assert table["KeySchema"] == schema.KEY_SCHEMA
    assert sorted(table["AttributeDefinitions"], key=str) == sorted(schema.ATTRIBUTE_DEFINITIONS, key=str)
    index = table["GlobalSecondaryIndexes"][0]
    expected = schema.GLOBAL_SECONDARY_INDEXES[0]
    assert (index["IndexName"], index["KeySchema"], index["Projection"]) == (
        expected["IndexName"],
        expected["KeySchema"],
        expected["Projection"],
    )
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["DeletionProtectionEnabled"] is False  # --deletion-protection false
    # moto's CloudFormation ignores the TTL and PITR properties: assert what the stack was given
    deployed = deployed_template(aws, "cafe-data-t")
    props = deployed["Resources"]["OrdersTable"]["Properties"]
    assert props["TimeToLiveSpecification"] == {
        "AttributeName": schema.TIME_TO_LIVE_ATTRIBUTE,
        "Enabled": True,
    }
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    token = aws.client("ssm").get_parameter(Name="/cafe/t/staff-token", WithDecryption=True)["Parameter"]
    assert token["Type"] == "SecureString" and len(token["Value"]) >= 32


def test_redeploying_is_a_no_op_and_destroy_removes_everything(aws: Aws, data_stack: dict[str, Any]) -> None:
    again = aws.deploy("data", "--stage", "t", "--deletion-protection", "false")
    assert "no changes" in again.stdout
    ssm = aws.client("ssm")
    token = ssm.get_parameter(Name="/cafe/t/staff-token", WithDecryption=True)["Parameter"]["Value"]
    aws.deploy("data", "--stage", "t", "--deletion-protection", "false")
    assert ssm.get_parameter(Name="/cafe/t/staff-token", WithDecryption=True)["Parameter"]["Value"] == token
    aws.deploy("data", "--stage", "t", "--destroy")
    assert aws.client("dynamodb").list_tables()["TableNames"] == []
    assert not (aws.outputs_dir / "data-t.json").exists()


def test_a_disallowed_instance_type_is_refused_clearly(aws: Aws, data_stack: dict[str, Any]) -> None:
    result = aws.deploy("ec2", "--stage", "t", "--param", "InstanceType=p5.48xlarge", check=False)
    assert result.returncode != 0
    assert "instance type p5.48xlarge is not allowed" in result.stderr and "Traceback" not in result.stderr


def test_runtimes_refuse_to_deploy_without_the_data_stack(aws: Aws) -> None:
    result = aws.deploy("ec2", "--stage", "nodata", check=False)
    assert result.returncode != 0
    assert "make deploy-data STAGE=nodata" in result.stderr


# -- ec2 ------------------------------------------------------------------------------------


def _ec2_instance(aws: Aws, stage: str = "t") -> dict[str, Any]:
    instance_id = saved(aws, "ec2", stage)["outputs"]["InstanceId"]
    reservations = aws.client("ec2").describe_instances(InstanceIds=[instance_id])["Reservations"]
    instance: dict[str, Any] = reservations[0]["Instances"][0]
    return instance


def test_ec2_single_instance(aws: Aws, data_stack: dict[str, Any]) -> None:
    aws.deploy("ec2", "--stage", "t")
    out = saved(aws, "ec2", "t")
    assert out["url"].startswith("http://") and out["url"].endswith(":80")
    instance = _ec2_instance(aws)
    ec2 = aws.client("ec2")
    # 1. AMI from the public SSM parameter; 2. instance type
    expected_ami = aws.client("ssm").get_parameter(Name=AL2023_ARM)["Parameter"]["Value"]
    assert instance["ImageId"] == expected_ami
    assert instance["InstanceType"] == "t4g.small"
    # 5. user data decodes to the settings header + the project's script, verbatim
    attribute = ec2.describe_instance_attribute(InstanceId=instance["InstanceId"], Attribute="userData")
    user_data = base64.b64decode(attribute["UserData"]["Value"]).decode()
    script = (ROOT / "ec2/user-data.sh").read_text(encoding="utf-8")
    header, _, rest = user_data.partition("\n# settings written by the CloudFormation stack cafe-ec2-t\n")
    assert header == "#!/bin/bash" and rest.endswith(script)
    settings = dict(line.removeprefix("export ").split("=", 1) for line in rest[: -len(script)].splitlines())
    bundle_key = settings.pop("CAFE_BUNDLE_KEY")
    assert settings == {
        "CAFE_TABLE": "cafe-t",
        "CAFE_BUNDLE_BUCKET": data_stack["outputs"]["ArtifactBucket"],
        "CAFE_TOKEN_PARAMETER": "/cafe/t/staff-token",
        "CAFE_PORT": "80",
        "CAFE_STAGE": "t",
        "CAFE_STAFF_REQUIRE_HTTPS": "1",  # staff calls over plain HTTP refused (AllowStaffOverHttp=false)
        "CAFE_CFN_STACK": "cafe-ec2-t",  # the user data signals this stack's Instance once healthy
        "CAFE_CFN_RESOURCE": "Instance",
        "AWS_REGION": "us-east-1",
    }
    # the bundle it names was uploaded
    head = aws.client("s3").head_object(Bucket=data_stack["outputs"]["ArtifactBucket"], Key=bundle_key)
    assert head["ContentLength"] > 1000
    # 6. storage: gp3, encrypted, default 8 GiB, deleted on termination
    mapping = instance["BlockDeviceMappings"][0]
    assert mapping["Ebs"]["DeleteOnTermination"] is True
    volume = ec2.describe_volumes(VolumeIds=[mapping["Ebs"]["VolumeId"]])["Volumes"][0]
    assert (volume["VolumeType"], volume["Encrypted"], volume["Size"]) == ("gp3", True, 8)
    # 7. security group: HTTP from anywhere, no SSH, egress HTTPS only
    group_id = out["outputs"]["InstanceSecurityGroupId"]
    group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    ingress = [
        (p["FromPort"], p["ToPort"], [r["CidrIp"] for r in p["IpRanges"]]) for p in group["IpPermissions"]
    ]
    assert ingress == [(80, 80, ["0.0.0.0/0"])]
    # moto's CloudFormation ignores SecurityGroupEgress (the group keeps allow-all): check the stack's
    egress = deployed_template(aws, "cafe-ec2-t")["Resources"]["InstanceSecurityGroup"]["Properties"][
        "SecurityGroupEgress"
    ]
    assert [(e["FromPort"], e["ToPort"], e["CidrIp"]) for e in egress] == [(443, 443, "0.0.0.0/0")]
    # 4. instance profile: attached, least privilege
    associations = ec2.describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": [instance["InstanceId"]]}]
    )["IamInstanceProfileAssociations"]
    profile_arn = associations[0]["IamInstanceProfile"]["Arn"]
    profile = aws.client("iam").get_instance_profile(InstanceProfileName=profile_arn.rsplit("/", 1)[1])
    role = profile["InstanceProfile"]["Roles"][0]
    assert role["RoleName"] == out["outputs"]["InstanceRoleName"]
    assert_least_privilege(role_statements(aws, role["RoleName"]), "cafe-t")
    others = [s for s in role_statements(aws, role["RoleName"]) if s["Sid"] in ("AppBundle", "StaffToken")]
    assert {(s["Action"][0], s["Resource"]) for s in others} == {
        ("s3:GetObject", f"arn:aws:s3:::{data_stack['outputs']['ArtifactBucket']}/{bundle_key}"),
        ("ssm:GetParameter", "arn:aws:ssm:us-east-1:123456789012:parameter/cafe/t/staff-token"),
    }
    # moto's CloudFormation ignores ManagedPolicyArns: Session Manager only (no CloudWatch agent
    # runs, so no CloudWatchAgentServerPolicy), per the stack
    managed = deployed_template(aws, "cafe-ec2-t")["Resources"]["InstanceRole"]["Properties"][
        "ManagedPolicyArns"
    ]
    assert [m["Fn::Sub"].rsplit("/", 1)[1] for m in managed] == ["AmazonSSMManagedInstanceCore"]
    # IMDSv2: moto drops MetadataOptions on CloudFormation instances; the launch template keeps it
    template_id = out["outputs"]["LaunchTemplateId"]
    version = ec2.describe_launch_template_versions(LaunchTemplateId=template_id)["LaunchTemplateVersions"][0]
    assert version["LaunchTemplateData"]["MetadataOptions"]["HttpTokens"] == "required"
    deployed = deployed_template(aws, "cafe-ec2-t")
    assert deployed["Resources"]["Instance"]["Properties"]["MetadataOptions"]["HttpTokens"] == "required"


def test_ec2_explicit_settings(aws: Aws, data_stack: dict[str, Any]) -> None:
    aws.deploy(
        "ec2",
        "--stage",
        "t",
        "--param",
        "InstanceType=t3.small",
        "--param",
        "RootVolumeSize=16",
        "--param",
        "KeyName=ops",
        "--param",
        "AdminCidr=203.0.113.0/24",
        "--param",
        "AppPort=8080",
    )
    out = saved(aws, "ec2", "t")
    instance = _ec2_instance(aws)
    ec2 = aws.client("ec2")
    # x86 type → the deploy picks the x86_64 AMI parameter
    assert instance["InstanceType"] == "t3.small"
    assert instance["ImageId"] == aws.client("ssm").get_parameter(Name=AL2023_X86)["Parameter"]["Value"]
    assert instance["KeyName"] == "ops"
    volume_id = instance["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
    assert ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]["Size"] == 16
    group = ec2.describe_security_groups(GroupIds=[out["outputs"]["InstanceSecurityGroupId"]])[
        "SecurityGroups"
    ][0]
    rules = sorted((p["FromPort"], r["CidrIp"]) for p in group["IpPermissions"] for r in p["IpRanges"])
    assert rules == [(22, "203.0.113.0/24"), (8080, "0.0.0.0/0")]
    assert out["url"].endswith(":8080")


def test_ec2_scale_out_mode(aws: Aws, data_stack: dict[str, Any]) -> None:
    aws.deploy(
        "ec2", "--stage", "t", "--param", "Mode=scale-out", "--param", "MinSize=2", "--param", "MaxSize=5"
    )
    out = saved(aws, "ec2", "t")
    assert "InstanceId" not in out["outputs"]
    assert out["url"].startswith("http://") and "elb" in out["url"]
    group = aws.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[out["outputs"]["AutoScalingGroupName"]]
    )["AutoScalingGroups"][0]
    assert (group["MinSize"], group["MaxSize"]) == (2, 5)
    assert group["LaunchTemplate"]["LaunchTemplateId"] == out["outputs"]["LaunchTemplateId"]
    assert len(group["TargetGroupARNs"]) == 1
    target_group = aws.client("elbv2").describe_target_groups(TargetGroupArns=group["TargetGroupARNs"])
    assert target_group["TargetGroups"][0]["HealthCheckPath"] == "/health"
    ec2 = aws.client("ec2")
    sg = ec2.describe_security_groups(GroupIds=[out["outputs"]["InstanceSecurityGroupId"]])["SecurityGroups"][
        0
    ]
    assert [r["CidrIp"] for p in sg["IpPermissions"] for r in p["IpRanges"]] == []  # only the ALB's group
    sources = [pair["GroupId"] for p in sg["IpPermissions"] for pair in p["UserIdGroupPairs"]]
    resources = stack_resources(aws, "cafe-ec2-t")
    assert sources == [resources["AlbSecurityGroup"]]
    data = ec2.describe_launch_template_versions(LaunchTemplateId=out["outputs"]["LaunchTemplateId"])
    launch = data["LaunchTemplateVersions"][0]["LaunchTemplateData"]
    assert launch["MetadataOptions"]["HttpTokens"] == "required"
    assert launch["InstanceType"] == "t4g.small"
    assert launch["BlockDeviceMappings"][0]["Ebs"]["VolumeType"] == "gp3"
    assert launch["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True


def test_bake_ami_and_launch_from_it(aws: Aws, data_stack: dict[str, Any]) -> None:
    refused = aws.deploy("ec2", "--stage", "t", "--use-baked-ami", check=False)
    assert refused.returncode != 0 and "run make bake-ami STAGE=t first" in refused.stderr
    aws.deploy("ec2", "--stage", "t")
    source = _ec2_instance(aws)["InstanceId"]
    aws.run("infra.bake", "--stage", "t", "--no-health-check")
    record = json.loads((aws.outputs_dir / "ami-t.json").read_text())
    image = aws.client("ec2").describe_images(ImageIds=[record["ami_id"]])["Images"][0]
    assert image["State"] == "available"
    tags = {t["Key"]: t["Value"] for t in image["Tags"]}
    assert tags["source-instance"] == source and tags["stage"] == "t"
    printed = aws.run("infra.bake", "--stage", "t", "--print-id").stdout.strip()
    assert printed == record["ami_id"]
    # (moto cannot update a stack whose instance is replaced, so launch the baked AMI fresh)
    aws.deploy("ec2", "--stage", "t", "--destroy")
    aws.deploy("ec2", "--stage", "t", "--use-baked-ami")  # what USE_BAKED_AMI=1 passes
    assert _ec2_instance(aws)["ImageId"] == record["ami_id"]


def test_destroy_ec2(aws: Aws, data_stack: dict[str, Any]) -> None:
    aws.deploy("ec2", "--stage", "t")
    aws.deploy("ec2", "--stage", "t", "--destroy")
    assert not (aws.outputs_dir / "ec2-t.json").exists()
    stacks = aws.client("cloudformation").list_stacks(
        StackStatusFilter=["CREATE_COMPLETE", "UPDATE_COMPLETE"]
    )
    assert [s["StackName"] for s in stacks["StackSummaries"]] == ["cafe-data-t"]


# -- fargate --------------------------------------------------------------------------------


def test_fargate_stack(aws: Aws, data_stack: dict[str, Any]) -> None:
    result = aws.deploy("fargate", "--stage", "t", "--skip-image", "--image-tag", "abc123")
    assert "warning: cafe-t:abc123 is not in ECR" in result.stdout  # nothing was pushed here
    assert result.stdout.count("fargate (t, us-east-1): http://") == 2  # both phases print the URL
    out = saved(aws, "fargate", "t")
    assert out["url"].startswith("http://") and "elb" in out["url"]
    ecs = aws.client("ecs")
    service = ecs.describe_services(cluster="cafe-t", services=[out["outputs"]["ServiceName"]])["services"][0]
    assert service["serviceName"] == "cafe-t"
    task = ecs.describe_task_definition(taskDefinition=out["outputs"]["TaskDefinitionArn"])["taskDefinition"]
    container = task["containerDefinitions"][0]
    assert container["image"] == f"{out['outputs']['RepositoryUri']}:abc123"
    env = {e["name"]: e["value"] for e in container["environment"]}
    assert (env["CAFE_STORE"], env["CAFE_TABLE"]) == ("dynamodb", "cafe-t")
    repo = aws.client("ecr").describe_repositories(repositoryNames=["cafe-t"])["repositories"][0]
    assert repo["imageTagMutability"] == "IMMUTABLE"
    logs = aws.client("logs").describe_log_groups(logGroupNamePrefix="/cafe/t/fargate")["logGroups"]
    assert logs[0]["retentionInDays"] == 14
    resources = stack_resources(aws, "cafe-fargate-t")
    task_role = resources["TaskRole"]
    assert_least_privilege(role_statements(aws, task_role), "cafe-t")
    # moto drops cpu/memory/network mode/runtime platform: the deployed template carries them
    deployed = deployed_template(aws, "cafe-fargate-t")
    props = deployed["Resources"]["TaskDefinition"]["Properties"]
    assert props["RuntimePlatform"]["CpuArchitecture"] == {"Ref": "CpuArchitecture"}
    parameters = {
        p["ParameterKey"]: p["ParameterValue"]
        for p in aws.client("cloudformation").describe_stacks(StackName="cafe-fargate-t")["Stacks"][0][
            "Parameters"
        ]
    }
    assert (parameters["CpuArchitecture"], parameters["Cpu"], parameters["Memory"]) == ("ARM64", "256", "512")
    vpc = aws.client("ec2").describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    assert parameters["VpcId"] == vpc["VpcId"] and len(parameters["SubnetIds"].split(",")) >= 2
    aws.deploy("fargate", "--stage", "t", "--destroy")
    assert aws.client("ecr").describe_repositories()["repositories"] == []


def test_fargate_image_step_fails_clearly_without_an_engine(
    aws: Aws, data_stack: dict[str, Any], tmp_path: Path
) -> None:
    env = {**aws.env, "PATH": str(tmp_path)}  # no docker anywhere on PATH
    result = aws.run("infra.deploy", "fargate", "--stage", "t", check=False, env=env)
    assert result.returncode != 0
    assert "no `docker` on PATH" in result.stderr and "SKIP_IMAGE=1" in result.stderr
    assert "Traceback" not in result.stderr


# -- lambda ---------------------------------------------------------------------------------


def test_lambda_stack(aws: Aws, lambda_package: Path) -> None:
    # the package fixture is built for stage "dev": give that stage its data stack, then deploy
    aws.deploy("data", "--stage", "dev", "--deletion-protection", "false")
    aws.deploy("lambda", "--stage", "dev", "--package-dir", str(lambda_package))
    out = saved(aws, "lambda", "dev")
    assert out["url"].startswith("https://") and out["url"].endswith("/api")
    function = aws.client("lambda").get_function(FunctionName=out["outputs"]["APIHandlerName"])[
        "Configuration"
    ]
    assert function["Runtime"].startswith("python3.") and function["MemorySize"] == 512
    # moto's CloudFormation keeps only a few Lambda properties: the rest, per the deployed template
    deployed = deployed_template(aws, "cafe-lambda-dev")["Resources"]["APIHandler"]["Properties"]
    assert deployed["Architectures"] == ["arm64"]
    assert deployed["TracingConfig"] == {"Mode": "Active"}
    assert deployed["Runtime"] == function["Runtime"]
    env = function["Environment"]["Variables"]
    assert env["CAFE_TABLE"] == "cafe-dev" and env["CAFE_STORE"] == "dynamodb"
    assert {k: env[k] for k in runtime_env.POWERTOOLS} == runtime_env.POWERTOOLS
    # The token itself stays in SSM: the function gets the parameter's name and may read only it.
    assert env["CAFE_STAFF_TOKEN_PARAMETER"] == "/cafe/dev/staff-token"
    assert "CAFE_STAFF_TOKEN" not in env
    role = function["Role"].rsplit("/", 1)[1]
    statements = role_statements(aws, role)
    assert_least_privilege(statements, "cafe-dev")
    assert not [s for s in statements if s["Resource"] == "*" and s["Sid"] != "Tracing"]
    groups = aws.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/")["logGroups"]
    # one log group per function: the HTTP API, the three WebSocket handlers, the stream handler
    assert [g.get("retentionInDays") for g in groups] == [14] * 5
    api = aws.client("apigateway").get_rest_api(restApiId=out["outputs"]["RestAPIId"])
    assert api["name"] == "cafe-dev"
    # the code that was deployed is the packaged zip
    code_key = [
        k["Key"]
        for k in aws.client("s3").list_objects_v2(
            Bucket=saved(aws, "data", "dev")["outputs"]["ArtifactBucket"]
        )["Contents"]
    ]
    assert any(k.startswith("lambda/dev/deployment-") for k in code_key)


def test_lambda_zip_is_lean_and_serves_health(lambda_package: Path, tmp_path: Path) -> None:
    """The zip carries the shared package (from vendor/), powertools and .pyc, not boto3; its
    handler answers /health in an interpreter that sees only the zip and the standard library."""
    import subprocess
    import sys
    import zipfile

    with zipfile.ZipFile(lambda_package / "deployment.zip") as archive:
        names = archive.namelist()
        archive.extractall(tmp_path / "zip")
    tops = {n.split("/", 1)[0] for n in names}
    assert {"app.py", "cafe", "aws_lambda_powertools", "chalice"} <= tops
    assert not {"boto3", "botocore", "aws_xray_sdk"} & tops
    assert any(n.startswith("cafe/") and n.endswith(".pyc") for n in names)
    event = {
        "resource": "/health",
        "path": "/health",
        "httpMethod": "GET",
        "headers": {},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "body": None,
        "isBase64Encoded": False,
        "requestContext": {
            "resourcePath": "/health",
            "httpMethod": "GET",
            "requestId": "r1",
            "stage": "api",
            "path": "/api/health",
            "identity": {"sourceIp": "1.2.3.4"},
        },
    }
    code = (
        "import json, sys; sys.path.insert(0, '.'); import app\n"
        "class Context: aws_request_id = 'r1'; function_name = 'cafe'; memory_limit_in_mb = 512; "
        "invoked_function_arn = 'arn:aws:lambda:us-east-1:123456789012:function:cafe'\n"
        f"print(json.dumps(app.app(json.loads({json.dumps(json.dumps(event))}), Context())))"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "CAFE_STORE": "memory",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    result = subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=tmp_path / "zip",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout.strip().splitlines()[-1])
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["runtime"] == "lambda"


def test_ec2_template_user_data_settings_cover_the_script() -> None:
    """Every required setting the script checks is one the template writes."""
    script = (ROOT / "ec2/user-data.sh").read_text(encoding="utf-8")
    required = script.split(': "${', 1)[1].split("\n", 1)[0]
    names = {part.split(":?", 1)[0].strip('"${} ') for part in required.split('" "')}
    assert names <= set(ec2_template.USER_DATA_SETTINGS) | {"AWS_REGION"}

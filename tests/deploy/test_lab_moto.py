"""Issue 25 end to end: the deploy commands and ``make lab-check`` run unchanged against a local
moto server — missing and Learner Lab credentials, the preflight table, lab deploys (AMI as a
plain id, Lambda tracing), destroy-data while a runtime uses the table, a failed first push."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra import lab, service_roles

from .conftest import ROOT, Aws
from .test_deploy_moto import deployed_template
from .test_first_deploy_moto import _learner_lab_account, _stack_parameter, _stacks

pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")


def _no_credentials(aws: Aws, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in aws.env.items() if not k.startswith("AWS_") or k == "AWS_ENDPOINT_URL"}
    env.update(
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


@pytest.mark.parametrize(
    ("module", "args"),
    [
        ("infra.deploy", ["data"]),
        ("infra.deploy", ["lambda", "--lab"]),
        ("infra.deploy", ["fargate", "--skip-image"]),
        ("infra.deploy", ["ec2"]),
        ("infra.deploy", ["data", "--destroy"]),
        ("infra.bake", []),
        ("infra.preflight", ["--lab"]),
    ],
)
def test_no_credentials_is_a_plain_message(aws: Aws, tmp_path: Path, module: str, args: list[str]) -> None:
    result = aws.run(module, *args, "--region", "us-east-1", check=False, env=_no_credentials(aws, tmp_path))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "NoCredentialsError" not in result.stderr
    assert "no usable AWS credentials" in result.stderr and "AWS Details" in result.stderr
    assert _stacks(aws) == []


def _lab_session_env(aws: Aws) -> dict[str, str]:
    """Credentials of the assumed role voclabs, as a Learner Lab hands them out."""
    aws.client("iam").create_role(RoleName="voclabs", AssumeRolePolicyDocument="{}")
    role = "arn:aws:iam::123456789012:role/voclabs"
    issued = aws.client("sts").assume_role(RoleArn=role, RoleSessionName="user4021=Student")["Credentials"]
    return {
        **aws.env,
        "AWS_ACCESS_KEY_ID": issued["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": issued["SecretAccessKey"],
        "AWS_SESSION_TOKEN": issued["SessionToken"],
    }


def test_lab_credentials_without_lab_stop_with_advice(aws: Aws) -> None:
    env = _lab_session_env(aws)
    result = aws.run("infra.deploy", "data", "--stage", "t", check=False, env=env)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "assumed-role/voclabs/" in result.stderr and "LAB=1 is not set" in result.stderr
    assert "make lab-check LAB=1" in result.stderr
    assert _stacks(aws) == []
    # with --lab the same session deploys
    aws.run("infra.deploy", "data", "--stage", "t", "--lab", "--deletion-protection", "false", env=env)
    assert _stacks(aws) == ["cafe-data-t"]


def _lab_check(aws: Aws) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "lab-check", "LAB=1"],
        cwd=ROOT,
        env=aws.env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_make_lab_check_prints_one_table(aws: Aws) -> None:
    _learner_lab_account(aws)
    first = _lab_check(aws)
    # a lab account without the ECS service-linked role: refused, for make deploy-fargate
    assert first.returncode != 0, first.stdout + first.stderr
    assert "refused  AWSServiceRoleForECS" in first.stdout
    assert "what the refusals mean:" in first.stdout and "[make deploy-fargate]" in first.stdout
    assert "refused for: deploy-fargate" in first.stderr and "Traceback" not in first.stderr
    for line in ("allowed  sts get-caller-identity", "allowed  ec2 run-instances --dry-run (t4g.small)"):
        assert line in first.stdout
    assert "unknown  iam simulate-principal-policy" in first.stdout  # moto has no simulator
    aws.client("iam").create_service_linked_role(AWSServiceName=service_roles.ECS.service)
    second = _lab_check(aws)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "allowed  AWSServiceRoleForECS" in second.stdout and "0 refused" in second.stdout
    # nothing was created by the probes
    assert aws.client("elbv2").describe_load_balancers()["LoadBalancers"] == []
    assert aws.client("ec2").describe_instances()["Reservations"] == []
    assert _stacks(aws) == []


def test_lab_deploys_run_the_preflight_and_pass_the_ami_plainly(aws: Aws, lab_lambda_package: Path) -> None:
    _learner_lab_account(aws)
    aws.deploy("data", "--stage", "dev", "--lab", "--deletion-protection", "false")
    ec2 = aws.deploy("ec2", "--stage", "dev", "--lab")
    assert "Learner Lab preflight for make deploy-ec2" in ec2.stdout
    parameters = {
        p["ParameterKey"]: p["ParameterValue"]
        for p in aws.client("cloudformation").describe_stacks(StackName="cafe-ec2-dev")["Stacks"][0][
            "Parameters"
        ]
    }
    assert "AmiSsmParameter" not in parameters and parameters["AmiId"].startswith("ami-")
    assert deployed_template(aws, "cafe-ec2-dev")["Parameters"]["AmiId"]["Type"] == "AWS::EC2::Image::Id"
    assert "the barista (staff) page does not" in ec2.stdout
    function = aws.deploy("lambda", "--stage", "dev", "--lab", "--package-dir", str(lab_lambda_package))
    # the simulator could not confirm LabRole's X-Ray writes: the function is not actively traced
    assert "LambdaTracing=PassThrough" in function.stdout
    assert _stack_parameter(aws, "cafe-lambda-dev", "LambdaTracing") == "PassThrough"


def test_lab_warns_about_an_option_it_could_not_confirm(aws: Aws, data_stack: dict[str, Any]) -> None:
    """(Refusals of options are tested on lab.check_options with refused findings: moto refuses
    nothing.)"""
    _learner_lab_account(aws)
    certificate = "arn:aws:acm:us-east-1:123456789012:certificate/0000"
    result = aws.deploy(
        "ec2", "--stage", "t", "--lab", "--param", "Mode=scale-out",
        "--param", f"CertificateArn={certificate}", check=False,
    )  # fmt: skip
    # moto answers every probe for scale-out but has no simulator: a warning, not a refusal
    assert "EC2_MODE=scale-out: the preflight could not confirm" in result.stdout
    assert "CERTIFICATE_ARN=...: the preflight could not confirm" not in result.stdout  # acm answered


def test_destroy_data_refuses_while_a_runtime_uses_the_table(aws: Aws, data_stack: dict[str, Any]) -> None:
    handle = {"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}}
    aws.client("cloudformation").create_stack(StackName="cafe-lambda-t", TemplateBody=json.dumps(handle))
    result = aws.deploy("data", "--stage", "t", "--destroy", check=False)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "cafe-lambda-t still use the table of cafe-data-t" in result.stderr
    assert "make destroy-lambda STAGE=t" in result.stderr
    assert "cafe-data-t" in _stacks(aws)
    aws.deploy("lambda", "--stage", "t", "--destroy")
    aws.deploy("data", "--stage", "t", "--destroy")
    assert _stacks(aws) == []


def _docker_that_cannot_push(directory: Path) -> None:
    script = directory / "docker"
    script.write_text(
        "#!/bin/bash\n"
        'case "$1 $2" in\n'
        '  "buildx inspect") printf "Name: default\\nPlatforms: linux/amd64, linux/arm64\\n" ;;\n'
        '  "info "|"buildx version") exit 0 ;;\n'
        '  "login --username") cat >/dev/null; echo "denied: registry unreachable" >&2; exit 1 ;;\n'
        '  *) echo "unexpected: $*" >&2; exit 99 ;;\n'
        "esac\n"
    )
    script.chmod(0o755)


def test_a_failed_first_push_leaves_nothing_billing(
    aws: Aws, data_stack: dict[str, Any], tmp_path: Path
) -> None:
    _docker_that_cannot_push(tmp_path)
    env = {**aws.env, "PATH": f"{tmp_path}:/usr/bin:/bin"}
    result = aws.run("infra.deploy", "fargate", "--stage", "t", check=False, env=env)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "creating stack cafe-fargate-t" in result.stdout  # the repository was needed for the push
    assert "was deleted: nothing is left billing" in result.stderr
    assert _stacks(aws) == ["cafe-data-t"]
    assert aws.client("elbv2").describe_load_balancers()["LoadBalancers"] == []
    assert not (aws.outputs_dir / "fargate-t.json").exists()


def test_scale_out_leaves_out_zones_without_the_type(aws: Aws, data_stack: dict[str, Any]) -> None:
    ec2 = aws.client("ec2")
    subnets = {s["AvailabilityZone"]: s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]}
    given = [subnets["us-east-1a"], subnets["us-east-1e"], subnets["us-east-1b"]]
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    result = aws.deploy(
        "ec2", "--stage", "t", "--param", "Mode=scale-out", "--param", "MinSize=1", "--param", "MaxSize=2",
        "--param", f"VpcId={vpc}", "--param", f"SubnetIds={','.join(given)}",
    )  # fmt: skip
    assert f"leaving out {subnets['us-east-1e']}" in result.stdout
    group = aws.client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"][0]
    assert group["VPCZoneIdentifier"].split(",") == [subnets["us-east-1a"], subnets["us-east-1b"]]
    for role in service_roles.EC2_SCALE_OUT:
        assert service_roles.has_role(aws.client("iam"), role), role.name
    assert lab.requested_options({"Mode": "scale-out"}) == ["scale-out"]

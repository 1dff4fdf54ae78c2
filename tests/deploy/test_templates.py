"""Static checks on every generated template: cfn-lint, checkov, and what the issue asks of each
resource that moto would not keep (ECS properties, instance security groups, IMDSv2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cafe.stores import schema
from infra import policy, runtime_env
from infra.templates import ec2, fargate

ROOT = Path(__file__).resolve().parents[2]


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def all_templates(templates: dict[str, Path], lambda_package: Path) -> list[Path]:
    return [*templates.values(), lambda_package / "sam.json", lambda_package / "template.json"]


def test_cfn_lint_is_clean_on_every_template(all_templates: list[Path]) -> None:
    """The CLI with its default rule set (errors and warnings), as `make lint-deploy` runs it."""
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run([str(cfn_lint), *map(str, all_templates)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_checkov_passes_or_skips_with_a_reason(checkov: Path, all_templates: list[Path]) -> None:
    args = [str(checkov), "--framework", "cloudformation", "--skip-download", "--output", "json"]
    for path in all_templates:
        args += ["-f", str(path)]
    result = subprocess.run(args, capture_output=True, text=True, timeout=600)
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [
        (c["check_id"], c["resource"], c["file_path"]) for r in reports for c in r["results"]["failed_checks"]
    ]
    assert not failed, failed
    skipped = [c for r in reports for c in r["results"]["skipped_checks"]]
    assert skipped, "expected documented skips"
    for check in skipped:
        reason = check["check_result"].get("suppress_comment") or ""
        assert len(reason) > 20, f"{check['check_id']} on {check['resource']} skipped without a reason"
    passed = sum(r["summary"]["passed"] for r in reports)
    assert passed > 50


def test_dockerfile_is_hadolint_clean() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    result = subprocess.run([str(hadolint), "fargate/Dockerfile"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_shape() -> None:
    text = (ROOT / "fargate/Dockerfile").read_text(encoding="utf-8")
    froms = [line for line in text.splitlines() if line.startswith("FROM ")]
    assert len(froms) == 2 and all("slim" in line or "PYTHON_IMAGE" in line for line in froms)
    assert "slim" in text
    assert "USER 10001:10001" in text
    assert 'CMD ["python", "-m", "fargate.serve"]' in text
    healthcheck = next(line for line in text.splitlines() if line.strip().startswith('CMD ["python", "-c"'))
    assert "/health" in healthcheck and "curl" not in healthcheck
    for source in ("requirements/runtime.txt requirements/runtime-lock.txt", "shared/", "fargate/"):
        assert f"COPY {source}" in text
    assert "pip install --no-cache-dir --no-deps -r requirements/runtime-lock.txt" in text
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert ignore[ignore.index("*") + 1 :][:3] == ["!requirements/runtime.txt", "!shared/", "!fargate/"]
    assert {"!requirements/runtime-lock.txt", "shared/build", "shared/dist"} <= set(ignore)


def test_shell_scripts_are_shellcheck_clean() -> None:
    shellcheck = Path(sys.executable).with_name("shellcheck")
    scripts = sorted(str(p) for p in (ROOT / "ec2").glob("*.sh"))
    assert any(s.endswith("user-data.sh") for s in scripts)
    result = subprocess.run([str(shellcheck), *scripts], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_user_data_runs_exactly_the_documented_command() -> None:
    script = (ROOT / "ec2/user-data.sh").read_text(encoding="utf-8")
    assert "ExecStart=$VENV/bin/gunicorn -c ec2/gunicorn.conf.py ec2.app:application" in script
    assert "WorkingDirectory=$APP_DIR" in script and 'APP_DIR="$PREFIX/app"' in script
    assert 'VENV="$PREFIX/venv"' in script and "PREFIX=/opt/cafe" in script
    assert "CAFE_STORE=dynamodb" in script
    assert "ExecStartPre=+$PREFIX/bin/cafe-load-secrets" in script
    assert "CAFE_STAFF_TOKEN" not in script.split("ENV_FILE=", 1)[1].split("UNIT", 1)[0]
    assert "--with-decryption" in (ROOT / "ec2/load-secrets.sh").read_text(encoding="utf-8")
    for name, value in runtime_env.POWERTOOLS.items():
        assert f"\n{name}={value}\n" in script


# -- data stack -----------------------------------------------------------------------------


def test_data_table_comes_from_the_schema_module(templates: dict[str, Path]) -> None:
    table = load(templates["data"])["Resources"]["OrdersTable"]["Properties"]
    assert table["KeySchema"] == schema.KEY_SCHEMA
    assert table["AttributeDefinitions"] == schema.ATTRIBUTE_DEFINITIONS
    assert table["GlobalSecondaryIndexes"] == schema.GLOBAL_SECONDARY_INDEXES
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}
    assert table["TimeToLiveSpecification"]["AttributeName"] == schema.TIME_TO_LIVE_ATTRIBUTE
    assert table["DeletionProtectionEnabled"] == {"Fn::If": ["Protected", True, False]}


# -- ec2 ------------------------------------------------------------------------------------


def test_ec2_eight_launch_settings_are_documented_parameters(templates: dict[str, Path]) -> None:
    template = load(templates["ec2"])
    params = template["Parameters"]
    for name in (
        "AmiId",
        "AmiSsmParameter",
        "InstanceType",
        "VpcId",
        "SubnetId",
        "AssociatePublicIp",
        "RootVolumeSize",
        "AppPort",
        "HttpCidr",
        "AdminCidr",
        "KeyName",
        "Mode",
        "MinSize",
        "MaxSize",
    ):
        assert len(params[name]["Description"]) > 20, name
    assert params["AmiSsmParameter"]["Type"] == "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>"
    assert (
        params["AmiSsmParameter"]["Default"]
        == "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
    )
    assert params["InstanceType"]["Default"] == "t4g.small"
    assert "t4g.small" in params["InstanceType"]["AllowedValues"]
    assert params["KeyName"]["Default"] == "" and params["AdminCidr"]["Default"] == ""
    # architecture rules: one per arch, each listing only that arch's types
    rules = template["Rules"]
    arm_rule = rules["InstanceTypeMatchesArm64"]
    assert arm_rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "Architecture"}, "arm64"]}
    assert arm_rule["Assertions"][0]["Assert"]["Fn::Contains"][0] == ec2.INSTANCE_TYPES["arm64"]


def test_ec2_instance_and_launch_template_share_the_hardening(templates: dict[str, Path]) -> None:
    resources = load(templates["ec2"])["Resources"]
    instance = resources["Instance"]["Properties"]
    data = resources["LaunchTemplate"]["Properties"]["LaunchTemplateData"]
    for props in (instance, data):
        assert props["MetadataOptions"]["HttpTokens"] == "required"
        assert props["BlockDeviceMappings"][0]["Ebs"] == {
            "VolumeType": "gp3",
            "VolumeSize": {"Ref": "RootVolumeSize"},
            "Encrypted": True,
            "DeleteOnTermination": True,
        }
        assert props["ImageId"] == {
            "Fn::If": ["HasExplicitAmi", {"Ref": "AmiId"}, {"Ref": "AmiSsmParameter"}]
        }
        assert props["KeyName"] == {"Fn::If": ["HasKey", {"Ref": "KeyName"}, {"Ref": "AWS::NoValue"}]}
    nic = instance["NetworkInterfaces"][0]
    assert nic["GroupSet"] == [{"Ref": "InstanceSecurityGroup"}] and nic["SubnetId"] == {"Ref": "SubnetId"}
    assert nic["AssociatePublicIpAddress"] == {"Fn::If": ["PublicIp", True, False]}
    # a new app bundle must launch a new instance (cloud-init runs user data once per instance)
    assert "${BundleKey}" in nic["Description"]["Fn::Sub"]


def test_ec2_security_group_rules_by_mode(templates: dict[str, Path]) -> None:
    template = load(templates["ec2"])
    resources = template["Resources"]
    assert "SecurityGroupIngress" not in resources["InstanceSecurityGroup"]["Properties"]
    assert resources["HttpFromAnywhere"]["Condition"] == "Single"
    assert resources["HttpFromAlb"]["Condition"] == "ScaleOut"
    assert resources["HttpFromAlb"]["Properties"]["SourceSecurityGroupId"] == {
        "Fn::GetAtt": ["AlbSecurityGroup", "GroupId"]
    }
    ssh = resources["SshFromAdmin"]
    assert ssh["Condition"] == "SshOpen" and ssh["Properties"]["FromPort"] == 22
    assert template["Conditions"]["SshOpen"]["Fn::And"][0] == {"Condition": "HasKey"}
    for kind in ("AutoScalingGroup", "LoadBalancer", "TargetGroup", "HttpListener", "AlbSecurityGroup"):
        assert resources[kind]["Condition"] == "ScaleOut"
    assert resources["TargetGroup"]["Properties"]["HealthCheckPath"] == "/health"


def test_ec2_user_data_is_the_project_script(templates: dict[str, Path]) -> None:
    data = load(templates["ec2"])["Resources"]["Instance"]["Properties"]["UserData"]
    parts = data["Fn::Base64"]["Fn::Join"][1]
    assert parts[-1] == (ROOT / "ec2/user-data.sh").read_text(encoding="utf-8")
    exported = [p for p in parts if isinstance(p, str) and p.startswith("export ")]
    assert exported == [f"export {name}=" for name in ec2.USER_DATA_SETTINGS] + ["export AWS_REGION="]


@pytest.mark.parametrize(("instance_type", "arch"), [("t4g.small", "arm64"), ("t3.micro", "x86_64")])
def test_architecture_of_instance_types(instance_type: str, arch: str) -> None:
    assert ec2.architecture_of(instance_type) == arch


def test_architecture_of_rejects_unknown_types() -> None:
    with pytest.raises(KeyError):
        ec2.architecture_of("p5.48xlarge")


# -- fargate --------------------------------------------------------------------------------


def test_fargate_task_definition(templates: dict[str, Path]) -> None:
    template = load(templates["fargate"])
    params, resources = template["Parameters"], template["Resources"]
    task = resources["TaskDefinition"]["Properties"]
    assert task["RequiresCompatibilities"] == ["FARGATE"] and task["NetworkMode"] == "awsvpc"
    assert task["RuntimePlatform"] == {
        "OperatingSystemFamily": "LINUX",
        "CpuArchitecture": {"Ref": "CpuArchitecture"},
    }
    assert params["CpuArchitecture"]["Default"] == "ARM64"
    assert (params["Cpu"]["Default"], params["Memory"]["Default"]) == (256, 512)  # the smallest task
    assert task["TaskRoleArn"] == {"Fn::GetAtt": ["TaskRole", "Arn"]}
    assert task["ExecutionRoleArn"] == {"Fn::GetAtt": ["ExecutionRole", "Arn"]}
    container = task["ContainerDefinitions"][0]
    assert container["HealthCheck"]["Command"][:3] == ["CMD", "python", "-c"]
    assert "/health" in container["HealthCheck"]["Command"][3]
    assert container["LogConfiguration"]["Options"]["awslogs-group"] == {"Ref": "LogGroup"}
    env = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert env["CAFE_STORE"] == "dynamodb"
    assert env["CAFE_TABLE"] == {"Ref": "TableName"} and env["PORT"] == {"Ref": "ContainerPort"}
    assert [s["Name"] for s in container["Secrets"]] == ["CAFE_STAFF_TOKEN"]
    assert {k: env[k] for k in runtime_env.POWERTOOLS} == runtime_env.POWERTOOLS
    assert resources["LogGroup"]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_fargate_service_scaling_and_network(templates: dict[str, Path]) -> None:
    template = load(templates["fargate"])
    resources = template["Resources"]
    service = resources["Service"]["Properties"]
    breaker = service["DeploymentConfiguration"]["DeploymentCircuitBreaker"]
    assert breaker == {"Enable": True, "Rollback": True}
    assert service["NetworkConfiguration"]["AwsvpcConfiguration"]["SecurityGroups"] == [
        {"Fn::GetAtt": ["TaskSecurityGroup", "GroupId"]}
    ]
    assert service["CapacityProviderStrategy"][0]["CapacityProvider"] == {
        "Fn::If": ["Spot", "FARGATE_SPOT", "FARGATE"]
    }
    assert resources["Cluster"]["Properties"]["CapacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
    assert service["LoadBalancers"][0]["TargetGroupArn"] == {"Ref": "TargetGroup"}
    assert resources["TargetGroup"]["Properties"]["HealthCheckPath"] == "/health"
    # ALB open on 80/443; tasks reachable only from the ALB's group
    alb_ports = sorted(
        r["FromPort"] for r in resources["AlbSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    )
    assert alb_ports == [80, 443]
    task_ingress = resources["TaskSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    assert task_ingress == [
        {
            "IpProtocol": "tcp",
            "FromPort": {"Ref": "ContainerPort"},
            "ToPort": {"Ref": "ContainerPort"},
            "SourceSecurityGroupId": {"Fn::GetAtt": ["AlbSecurityGroup", "GroupId"]},
            "Description": "from the ALB",
        }
    ]
    target = resources["ScalableTarget"]["Properties"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == ({"Ref": "MinCapacity"}, {"Ref": "MaxCapacity"})
    scaling = resources["CpuTargetTracking"]["Properties"]
    assert scaling["PolicyType"] == "TargetTrackingScaling"
    # Fargate Spot runs ARM64 tasks on platform 1.4.0+: no rule ties Spot to X86_64 any more
    assert not [name for name in template["Rules"] if "Spot" in name]
    assert service["PlatformVersion"] == "1.4.0"
    assert resources["Repository"]["Type"] == "AWS::ECR::Repository"
    assert resources["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]["Name"] == fargate.CONTAINER


# -- iam ------------------------------------------------------------------------------------


def test_data_actions_are_never_wildcards() -> None:
    for action in (*policy.TABLE_ACTIONS, *policy.INDEX_ACTIONS):
        assert action.startswith("dynamodb:") and "*" not in action

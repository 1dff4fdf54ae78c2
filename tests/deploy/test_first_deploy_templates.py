"""What a first real deploy needs that moto would not refuse: checked on the generated templates,
the user-data script and the offline helpers (issue: deploys that work on a real account and in
an AWS Academy Learner Lab)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tarfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from infra import bundle, image, lab, lock, runtime_env
from infra.lambda_package import TARGET_RUNTIME, runtime_deprecation, runtime_warning
from infra.render import render_all
from infra.templates import alb, ec2, fargate

from .conftest import ROOT

USER_DATA = (ROOT / "ec2/user-data.sh").read_text(encoding="utf-8")


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def lab_templates(build_dir: Path) -> dict[str, Path]:
    return {path.stem: path for path in render_all(build_dir / "lab-templates", lab=True)}


# -- fargate ----------------------------------------------------------------------------------


def test_fargate_cpu_memory_rules_list_exactly_the_valid_pairs(templates: dict[str, Path]) -> None:
    template = load(templates["fargate"])
    rules = {name: rule for name, rule in template["Rules"].items() if name.startswith("MemoryFitsCpu")}
    assert len(rules) == len(fargate.SIZES)
    for cpu, memory in fargate.SIZES.items():
        rule = rules[f"MemoryFitsCpu{cpu}"]
        assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "Cpu"}, str(cpu)]}
        assert rule["Assertions"][0]["Assert"] == {
            "Fn::Contains": [[str(m) for m in memory], {"Ref": "Memory"}]
        }
    assert template["Parameters"]["Memory"]["AllowedValues"] == sorted(
        {m for v in fargate.SIZES.values() for m in v}
    )
    # AWS's table: 0.25 vCPU up to 2 GB, 4 vCPU from 8 to 30 GB in 1 GB steps
    assert fargate.SIZES[256] == [512, 1024, 2048]
    assert fargate.SIZES[4096][0] == 8192 and fargate.SIZES[4096][-1] == 30720


@pytest.mark.parametrize(("cpu", "memory"), [(256, 4096), (1024, 1024), (512, 512), (128, 512)])
def test_check_size_refuses_pairs_fargate_refuses(cpu: int, memory: int) -> None:
    with pytest.raises(fargate.TaskSizeError, match=f"{cpu}"):
        fargate.check_size(cpu, memory)


def test_check_size_accepts_every_listed_pair() -> None:
    for cpu, memory in fargate.SIZES.items():
        for value in memory:
            fargate.check_size(cpu, value)


def test_fargate_service_rolls_in_place_and_waits_for_the_forwarding_listener(
    templates: dict[str, Path],
) -> None:
    resources = load(templates["fargate"])["Resources"]
    service = resources["Service"]
    assert service["DependsOn"] == ["ListenerReady"]
    ready = resources["ListenerReady"]
    assert ready["Type"] == "AWS::CloudFormation::WaitConditionHandle"
    # with a certificate HTTP only redirects: the HTTPS listener is the one attaching the target group
    assert ready["Metadata"]["ForwardingListener"] == {
        "Fn::If": ["HasCertificate", {"Ref": "HttpsListener"}, {"Ref": "HttpListener"}]
    }
    https = resources["HttpsListener"]["Properties"]
    assert https["DefaultActions"] == [{"Type": "forward", "TargetGroupArn": {"Ref": "TargetGroup"}}]
    props = service["Properties"]
    assert props["DeploymentController"] == {"Type": "ECS"}
    config = props["DeploymentConfiguration"]
    assert (config["MinimumHealthyPercent"], config["MaximumPercent"]) == (100, 200)
    assert config["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    # Spot is allowed on ARM64: platform 1.4.0 (ECS API reference, CapacityProviderStrategyItem)
    assert props["PlatformVersion"] == "1.4.0"
    assert "x86_64 only" not in json.dumps(load(templates["fargate"])["Parameters"]["UseSpot"])


@pytest.mark.parametrize("kind", ["fargate", "ec2"])
def test_alb_https_listener_and_optional_waf(templates: dict[str, Path], kind: str) -> None:
    template = load(templates[kind])
    resources, params = template["Resources"], template["Parameters"]
    assert params["CertificateArn"]["Default"] == ""
    assert re.fullmatch(
        params["CertificateArn"]["AllowedPattern"], "arn:aws:acm:us-east-1:123456789012:certificate/abc-123"
    )
    https = resources["HttpsListener"]
    assert https["Condition"] == "HasCertificate"
    assert https["Properties"]["SslPolicy"] == alb.SSL_POLICY and https["Properties"]["Port"] == 443
    redirect = resources["HttpListener"]["Properties"]["DefaultActions"][0]["Fn::If"]
    assert redirect[0] == "HasCertificate" and redirect[1]["RedirectConfig"]["Protocol"] == "HTTPS"
    ingress = resources["AlbSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    assert sorted(rule["FromPort"] for rule in ingress) == [80, 443]
    # WAF: off by default (WafRateLimit 0), a rate-based rule per client IP when set
    assert params["WafRateLimit"]["Default"] == 0
    acl = resources["WebAcl"]
    assert acl["Condition"] == "HasWaf" and resources["WebAclAssociation"]["Condition"] == "HasWaf"
    statement = acl["Properties"]["Rules"][0]["Statement"]["RateBasedStatement"]
    assert statement == {"Limit": {"Ref": "WafRateLimit"}, "AggregateKeyType": "IP"}
    assert acl["Properties"]["Rules"][0]["Action"] == {"Block": {}}
    assert resources["WebAclAssociation"]["Properties"]["ResourceArn"] == {"Ref": "LoadBalancer"}
    url = template["Outputs"]["Url"]["Value"]
    assert (url if kind == "fargate" else url["Fn::If"][1]) == alb.url()  # https with a certificate


def test_ec2_alb_pieces_exist_only_in_scale_out(templates: dict[str, Path]) -> None:
    template = load(templates["ec2"])
    conditions = template["Conditions"]
    for name in ("HasCertificate", "HasWaf"):
        assert conditions[name]["Fn::And"][0] == {"Condition": "ScaleOut"}
    for name in ("HttpListener", "ListenerReady"):
        assert template["Resources"][name]["Condition"] == "ScaleOut"
    rule = template["Rules"]["CertificateNeedsScaleOut"]
    assert rule["Assertions"][0]["Assert"] == {"Fn::Equals": [{"Ref": "Mode"}, "scale-out"]}


@pytest.mark.parametrize("kind", ["fargate", "ec2"])
def test_staff_calls_need_https_unless_allowed(templates: dict[str, Path], kind: str) -> None:
    template = load(templates[kind])
    assert template["Parameters"]["AllowStaffOverHttp"]["Default"] == "false"
    mapping = template["Mappings"][runtime_env.STAFF_MAPPING]
    assert mapping == {"true": {"Value": "0"}, "false": {"Value": "1"}}
    value = runtime_env.staff_require_https()
    if kind == "fargate":
        env = template["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]["Environment"]
        assert {"Name": "CAFE_STAFF_REQUIRE_HTTPS", "Value": value} in env
    else:
        parts = template["Resources"]["Instance"]["Properties"]["UserData"]["Fn::Base64"]["Fn::Join"][1]
        assert parts[parts.index("export CAFE_STAFF_REQUIRE_HTTPS=") + 1] == value
        assert "CAFE_STAFF_REQUIRE_HTTPS=$CAFE_STAFF_REQUIRE_HTTPS" in USER_DATA


# -- ec2 --------------------------------------------------------------------------------------


def test_ec2_stack_waits_for_the_instances_signal(templates: dict[str, Path]) -> None:
    resources = load(templates["ec2"])["Resources"]
    assert resources["Instance"]["CreationPolicy"] == {"ResourceSignal": {"Count": 1, "Timeout": "PT15M"}}
    group = resources["AutoScalingGroup"]
    assert group["CreationPolicy"] == {"ResourceSignal": {"Count": {"Ref": "MinSize"}, "Timeout": "PT15M"}}
    rolling = group["UpdatePolicy"]["AutoScalingRollingUpdate"]
    assert rolling["WaitOnResourceSignals"] is True and rolling["PauseTime"] == "PT15M"
    assert group["DependsOn"] == ["ListenerReady"]
    # the script signals the resource the mode uses
    mapping = load(templates["ec2"])["Mappings"]["SignalledResource"]
    assert mapping == {"single": {"LogicalId": "Instance"}, "scale-out": {"LogicalId": "AutoScalingGroup"}}


def test_user_data_signals_health_and_failure() -> None:
    body = USER_DATA.split("set -euo pipefail", 1)[1]
    assert "trap on_exit EXIT" in body and "aws-cfn-bootstrap" in body
    # failure: the EXIT trap sends the non-zero status (set -e makes every failed step exit)
    on_exit = body.split("on_exit() {", 1)[1].split("\n}\n", 1)[0]
    assert 'signal_stack "$status"' in on_exit and "status != 0" in on_exit
    # success: only after /health answered
    health_loop = body.split('curl -fsS "http://127.0.0.1:$CAFE_PORT/health"', 1)[1]
    assert health_loop.index("signal_stack 0") < health_loop.index("exit 0")
    signal = body.split("signal_stack() {", 1)[1].split("\n}\n", 1)[0]
    for option in ('--exit-code "$1"', '--stack "$CAFE_CFN_STACK"', '--resource "$CAFE_CFN_RESOURCE"'):
        assert option in signal


def test_user_data_signal_runs_in_bash(tmp_path: Path) -> None:
    """The script's own signal and exit functions, run by bash with a recording cfn-signal: a
    failing step sends its status once; nothing is sent when no stack is named."""
    recorder = tmp_path / "cfn-signal"
    recorder.write_text('#!/bin/bash\necho "$@" >> "$(dirname "$0")/calls"\n')
    recorder.chmod(0o755)
    header = USER_DATA.split("set -euo pipefail", 1)[1].split(': "${CAFE_TABLE:?}"', 1)[0]
    header = header.replace("CFN_SIGNAL=/opt/aws/bin/cfn-signal", f"CFN_SIGNAL={recorder}")
    for stack, expected in (("cafe-ec2-t", 1), ("", 0)):
        (tmp_path / "calls").unlink(missing_ok=True)
        script = f"set -euo pipefail\n{header}\nfalse\necho unreachable\n"
        env = {
            "PATH": "/usr/bin:/bin",
            "CAFE_CFN_STACK": stack,
            "CAFE_CFN_RESOURCE": "Instance",
            "AWS_REGION": "us-east-1",
        }
        result = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True)
        assert result.returncode == 1 and "unreachable" not in result.stdout
        calls = (tmp_path / "calls").read_text().splitlines() if (tmp_path / "calls").exists() else []
        assert len(calls) == expected, calls
        if expected:
            assert (
                calls[0].startswith("--exit-code 1 ") and "--stack cafe-ec2-t --resource Instance" in calls[0]
            )


def test_user_data_installs_only_pinned_packages() -> None:
    assert "--upgrade pip" not in USER_DATA
    install = next(line for line in USER_DATA.splitlines() if "pip install" in line)
    assert "--no-deps" in install
    assert "requirements/runtime-lock.txt" in USER_DATA.split(install, 1)[1].splitlines()[1]
    assert "requirements/runtime-lock.txt" in bundle.CONTENTS


def test_runtime_lock_is_the_installed_closure_of_runtime_txt() -> None:
    """Fails when runtime.txt or the venv moves without `python -m infra.lock`."""
    assert lock.LOCK.read_text(encoding="utf-8") == lock.render()
    pins = dict(line.split("==") for line in lock.render().splitlines() if not line.startswith("#"))
    for requirement in lock.top_level():
        assert str(requirement.specifier) == f"=={pins[lock._name(requirement.name)]}"
    assert {"botocore", "anyio", "h11"} <= set(pins)  # transitive ones are pinned too


def test_bundle_and_image_tag_ignore_build_leftovers(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    for entry in ("requirements", "shared", "ec2", "fargate"):
        shutil.copytree(
            ROOT / entry, root / entry, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
        )
    clean_tag = image.image_tag(root)
    stale = root / "shared" / "build" / "lib" / "cafe" / "stale.py"
    stale.parent.mkdir(parents=True)
    stale.write_text("raise SystemExit('old code')\n")
    (root / "shared" / "dist").mkdir()
    (root / "shared" / "dist" / "cafe.whl").write_text("x")
    with tarfile.open(bundle.build(root, tmp_path / "out")) as tar:
        names = tar.getnames()
    assert "shared/cafe/__init__.py" in names and "requirements/runtime-lock.txt" in names
    assert not [n for n in names if n.startswith(("shared/build/", "shared/dist/"))]
    assert image.image_tag(root) == clean_tag  # nor do they change the Fargate image's tag


def test_no_cloudwatch_agent_policy_without_an_agent(templates: dict[str, Path]) -> None:
    role = load(templates["ec2"])["Resources"]["InstanceRole"]["Properties"]
    assert "CloudWatchAgent" not in json.dumps(role)
    assert "amazon-cloudwatch-agent" not in USER_DATA


# -- image builder ------------------------------------------------------------------------------

INSPECT = """Name:          default
Driver:        docker
Nodes:
Name:      default
Endpoint:  default
Status:    running
Platforms: linux/amd64, linux/amd64/v2, linux/386*
"""


def test_builder_platforms_parses_buildx_inspect() -> None:
    assert image.builder_platforms(INSPECT) == {"linux/amd64", "linux/amd64/v2", "linux/386"}
    with_qemu = INSPECT.replace("linux/386*", "linux/386, linux/arm64, linux/arm/v7")
    assert "linux/arm64" in image.builder_platforms(with_qemu)


# -- lambda -----------------------------------------------------------------------------------


def test_lambda_stage_throttling_and_reserved_concurrency(lambda_package: Path) -> None:
    template = load(lambda_package / "template.json")
    stages = [r for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::Stage"]
    assert stages[0]["Properties"]["MethodSettings"] == [
        {
            "HttpMethod": "*",
            "ResourcePath": "/*",
            "ThrottlingBurstLimit": {"Ref": "ThrottleBurstLimit"},
            "ThrottlingRateLimit": {"Ref": "ThrottleRateLimit"},
        }
    ]
    params = template["Parameters"]
    assert (params["ThrottleRateLimit"]["Default"], params["ThrottleBurstLimit"]["Default"]) == (100, 200)
    assert params["ReservedConcurrency"]["Default"] == 0
    function = template["Resources"]["APIHandler"]["Properties"]
    assert function["ReservedConcurrentExecutions"] == {
        "Fn::If": ["HasReservedConcurrency", {"Ref": "ReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
    }
    assert function["Environment"]["Variables"]["CAFE_STAFF_REQUIRE_HTTPS"] == "1"


def test_lambda_runtime_plan() -> None:
    dates = runtime_deprecation()
    assert dates["python3.11"] == date(2027, 6, 30)  # what this machine's Python packages today
    assert dates[TARGET_RUNTIME] >= date(2029, 1, 1)  # the plan: supported well past 2027
    warning = runtime_warning("python3.11", today=date(2026, 1, 1))
    assert warning is not None and "python3.13" in warning
    assert runtime_warning(TARGET_RUNTIME, today=date(2026, 1, 1)) is None
    chalice_config = (Path(sys.executable).parent.parent / "lib").glob(
        "python3.*/site-packages/chalice/config.py"
    )
    source = next(chalice_config).read_text(encoding="utf-8")
    assert "(3, 14)" in source  # chalice maps 3.10-3.14 to the same Lambda runtime


# -- Learner Lab --------------------------------------------------------------------------------


def test_lab_templates_create_no_iam(lab_templates: dict[str, Path], lab_lambda_package: Path) -> None:
    for path in [
        *lab_templates.values(),
        lab_lambda_package / "sam.json",
        lab_lambda_package / "template.json",
    ]:
        template = load(path)
        assert lab.iam_resources(template) == [], path
        assert "AWS::Serverless::Function" in json.dumps(template) or "Lambda" not in path.name
    fargate_t = load(lab_templates["fargate"])
    assert fargate_t["Parameters"]["LabRoleName"]["Default"] == "LabRole"
    task = fargate_t["Resources"]["TaskDefinition"]["Properties"]
    assert task["TaskRoleArn"] == task["ExecutionRoleArn"] == lab.role_arn()
    ec2_t = load(lab_templates["ec2"])
    assert ec2_t["Parameters"]["LabInstanceProfileName"]["Default"] == "LabInstanceProfile"
    assert ec2_t["Resources"]["Instance"]["Properties"]["IamInstanceProfile"] == {
        "Ref": "LabInstanceProfileName"
    }
    launch = ec2_t["Resources"]["LaunchTemplate"]["Properties"]["LaunchTemplateData"]
    assert launch["IamInstanceProfile"] == {"Name": {"Ref": "LabInstanceProfileName"}}
    function = load(lab_lambda_package / "template.json")["Resources"]["APIHandler"]["Properties"]
    assert function["Role"] == lab.role_arn()


def test_lab_templates_trace_and_take_the_ami_only_as_told(
    templates: dict[str, Path], lab_templates: dict[str, Path], lab_lambda_package: Path, lambda_package: Path
) -> None:
    """Issue 25, items 1 and 2: a lab's Lambda is not actively traced unless the deploy says so,
    and a lab's EC2 stack takes the AMI as a plain image id (no SSM-typed parameter)."""
    expanded = load(lab_lambda_package / "template.json")
    parameter = expanded["Parameters"]["LambdaTracing"]
    assert parameter["Default"] == "PassThrough" and parameter["AllowedValues"] == ["Active", "PassThrough"]
    function = expanded["Resources"]["APIHandler"]["Properties"]
    assert function["TracingConfig"] == {"Mode": {"Ref": "LambdaTracing"}}
    stages = [r for r in expanded["Resources"].values() if r["Type"] == "AWS::ApiGateway::Stage"]
    assert [s["Properties"]["TracingEnabled"] for s in stages] == [True]  # API Gateway's own traces
    # outside a lab: always active (the template's own role grants the X-Ray writes)
    normal = load(lambda_package / "template.json")
    assert normal["Resources"]["APIHandler"]["Properties"]["TracingConfig"] == {"Mode": "Active"}
    assert "LambdaTracing" not in normal["Parameters"]

    lab_ec2 = load(lab_templates["ec2"])
    assert lab_ec2["Parameters"]["AmiId"] == {
        "Type": "AWS::EC2::Image::Id",
        "Description": lab_ec2["Parameters"]["AmiId"]["Description"],
    }
    assert "AmiSsmParameter" not in json.dumps(lab_ec2)
    launch = lab_ec2["Resources"]["LaunchTemplate"]["Properties"]["LaunchTemplateData"]
    assert launch["ImageId"] == lab_ec2["Resources"]["Instance"]["Properties"]["ImageId"] == {"Ref": "AmiId"}
    normal_ec2 = load(templates["ec2"])
    assert normal_ec2["Parameters"]["AmiSsmParameter"]["Type"].startswith("AWS::SSM::Parameter::Value")


def test_lab_templates_lint_clean(
    lab_templates: dict[str, Path], lab_lambda_package: Path, checkov: Path
) -> None:
    paths = [*lab_templates.values(), lab_lambda_package / "sam.json", lab_lambda_package / "template.json"]
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run([str(cfn_lint), *map(str, paths)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    args = [str(checkov), "--framework", "cloudformation", "--skip-download", "--output", "json"]
    for path in paths:
        args += ["-f", str(path)]
    reports = json.loads(subprocess.run(args, capture_output=True, text=True, timeout=600).stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [(c["check_id"], c["resource"]) for r in reports for c in r["results"]["failed_checks"]]
    assert not failed, failed


@pytest.mark.parametrize(
    ("region", "instance_type", "message"),
    [
        ("eu-west-1", None, "us-east-1, us-west-2"),
        ("us-east-1", "t3.xlarge", "nano/micro/small/medium/large"),
        ("us-west-2", "m7i.2xlarge", "INSTANCE_TYPE=m7i.2xlarge"),
    ],
)
def test_lab_limits_refuse_with_a_clear_message(region: str, instance_type: str | None, message: str) -> None:
    with pytest.raises(lab.LabLimitError, match=re.escape(message)):
        lab.check(region, instance_type)


def test_lab_limits_accept_the_defaults() -> None:
    lab.check("us-east-1", ec2.DEFAULT_INSTANCE_TYPE)
    lab.check("us-west-2", "t3.small")

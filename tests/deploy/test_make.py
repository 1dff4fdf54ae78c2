"""The make targets: `package-all` offline without credentials (and in Learner Lab mode), the
deploy variables, and what `lint-deploy` hands checkov."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from infra import lab

from .conftest import ROOT


def _env_without_aws(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
    return env


def _package_all(tmp_path: Path, *variables: str) -> Path:
    build = tmp_path / "build"
    result = subprocess.run(
        ["make", "--no-print-directory", "package-all", f"BUILD={build}", *variables],
        cwd=ROOT,
        env=_env_without_aws(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return build


def test_package_all_writes_every_artifact_without_credentials(tmp_path: Path) -> None:
    build = _package_all(tmp_path)
    names = {p.relative_to(build).as_posix() for p in build.rglob("*") if p.is_file()}
    expected = {
        "templates/data.json",
        "templates/fargate.json",
        "templates/ec2.json",
        "lambda/dev/package/sam.json",
        "lambda/dev/package/template.json",
        "lambda/dev/package/deployment.zip",
        "Dockerfile",
        "user-data.sh",
    }
    assert expected <= names
    assert any(n.startswith("ec2/ec2-bundle-") and n.endswith(".tar.gz") for n in names)


def _dry_run(tmp_path: Path, *args: str) -> str:
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", *args],
        cwd=ROOT,
        env=_env_without_aws(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_deploy_variables_become_stack_parameters(tmp_path: Path) -> None:
    out = _dry_run(
        tmp_path,
        "deploy-ec2",
        "STAGE=qa",
        "REGION=ap-northeast-2",
        "INSTANCE_TYPE=t3.small",
        "EC2_MODE=scale-out",
        "KEY_NAME=ops",
        "ADMIN_CIDR=203.0.113.0/24",
        "USE_BAKED_AMI=1",
        "PARAMS=RootVolumeSize=16 MaxSize=6",
    )
    line = next(x for x in out.splitlines() if "infra.deploy" in x and " ec2" in x)
    for part in (
        "--stage qa",
        "--region ap-northeast-2",
        "--param InstanceType=t3.small",
        "--param Mode=scale-out",
        "--param KeyName=ops",
        "--param AdminCidr=203.0.113.0/24",
        "--param RootVolumeSize=16",
        "--param MaxSize=6",
        "--use-baked-ami",
    ):
        assert part in line, part
    assert "--deletion-protection false" in out  # the data stack it depends on (not prod)


def test_lab_reaches_every_deploy_and_package_command(tmp_path: Path) -> None:
    targets = ["package-all", "deploy-data", "deploy-lambda", "deploy-fargate", "deploy-ec2"]
    targets += ["destroy-lambda", "destroy-fargate", "destroy-ec2", "destroy-data", "lab-check"]
    out = _dry_run(tmp_path, *targets, "LAB=1")
    commands = [
        line
        for line in out.splitlines()
        if re.search(r"-m infra\.(deploy|render|lambda_package|preflight)", line)
    ]
    assert len(commands) >= len(targets)
    for line in commands:
        assert "--lab" in line, line
    assert "--lab" not in _dry_run(tmp_path, "deploy-ec2")


def test_lint_deploy_gives_checkov_every_template(tmp_path: Path) -> None:
    """checkov scans only one of several -d folders: each template goes as its own -f."""
    build = tmp_path / "build"
    files = [build / "templates" / "fargate.json", build / "lambda" / "dev" / "package" / "template.json"]
    for file in files:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text("{}")
    out = _dry_run(tmp_path, "lint-deploy", f"BUILD={build}")
    checkov = out.split("checkov --quiet", 1)[1].split("hadolint", 1)[0]
    for file in files:
        assert f"-f {file}" in checkov
    assert " -d " not in checkov


def test_package_all_lab_writes_templates_without_iam(tmp_path: Path) -> None:
    build = _package_all(tmp_path, "LAB=1")
    templates = [*build.glob("templates/*.json"), *build.glob("lambda/dev/package/*.json")]
    assert len(templates) == 5
    for path in templates:
        assert lab.iam_resources(json.loads(path.read_text(encoding="utf-8"))) == [], path

"""The make targets: `package-all` offline without credentials, and the deploy variables."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from .conftest import ROOT


def _env_without_aws(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
    return env


def test_package_all_writes_every_artifact_without_credentials(tmp_path: Path) -> None:
    build = tmp_path / "build"
    result = subprocess.run(
        ["make", "--no-print-directory", "package-all", f"BUILD={build}"],
        cwd=ROOT,
        env=_env_without_aws(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
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


def test_deploy_variables_become_stack_parameters(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-n",
            "deploy-ec2",
            "STAGE=qa",
            "REGION=ap-northeast-2",
            "INSTANCE_TYPE=t3.small",
            "EC2_MODE=scale-out",
            "KEY_NAME=ops",
            "ADMIN_CIDR=203.0.113.0/24",
            "USE_BAKED_AMI=1",
            "PARAMS=RootVolumeSize=16 MaxSize=6",
        ],
        cwd=ROOT,
        env=_env_without_aws(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if "infra.deploy" in x and " ec2" in x)
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
    assert "--deletion-protection false" in result.stdout  # the data stack it depends on (not prod)

"""Fixtures for the deploy tests: rendered templates, a chalice package, a moto server.

The deploy commands run unchanged in a subprocess (``python -m infra.deploy ...``); only
``AWS_ENDPOINT_URL`` (honoured by boto3 itself) points them at a ThreadedMotoServer on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.lambda_package import package
from infra.render import render_all

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
REGION = "us-east-1"
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("build")


@pytest.fixture(scope="session")
def templates(build_dir: Path) -> dict[str, Path]:
    return {path.stem: path for path in render_all(build_dir / "templates")}


@pytest.fixture(scope="session")
def checkov() -> Path:
    """checkov lives in its own venv (its pins clash with ours); `make checkov-venv` creates it."""
    if not CHECKOV.exists():
        subprocess.run(
            ["make", "--no-print-directory", "checkov-venv"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=900,
        )
    return CHECKOV


@pytest.fixture(scope="session")
def lambda_package(build_dir: Path) -> Path:
    """``make package-lambda``'s pipeline for stage "dev" (chalice downloads wheels from PyPI)."""
    return package("dev", REGION, build_dir)


@pytest.fixture(scope="session")
def lab_lambda_package(build_dir: Path) -> Path:
    """The same in Learner Lab mode (``make package-lambda LAB=1``)."""
    return package("dev", REGION, build_dir / "lab", lab=True)


def _method_doc(doc: dict[str, Any]) -> dict[str, Any]:
    """A method with its Lambda proxy integration, in the subset moto's importer reads."""
    integration = doc.get("x-amazon-apigateway-integration", {})
    return {
        "responses": {},
        "x-amazon-apigateway-integration": {
            "type": integration.get("type", "aws_proxy"),
            "httpMethod": integration.get("httpMethod", "POST"),
            "uri": str(integration.get("uri", "")),
            "passthroughBehavior": "when_no_match",
        },
    }


def _teach_moto_rest_api_bodies() -> None:
    """moto builds AWS::ApiGateway::RestApi from CloudFormation without reading ``Body``, and then
    refuses the Deployment ("no methods"). Import the body's paths and methods with moto's own
    ``put_rest_api`` so the stack can be created; nothing about our template changes."""
    from moto.apigateway import models

    original = models.RestAPI.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    if getattr(original, "_cafe_patched", False):
        return

    def create(cls: Any, name: str, cfn_json: dict[str, Any], account_id: str, region: str, **kw: Any) -> Any:
        api = original(cls, name, cfn_json, account_id, region, **kw)
        body = cfn_json["Properties"].get("Body")
        if body:
            paths = {
                path: {
                    method: _method_doc(doc) for method, doc in item.items() if method.lower() in HTTP_METHODS
                }
                for path, item in body.get("paths", {}).items()
                if path != "/"
            }
            doc = {"openapi": "3.0.1", "info": {"title": api.name}, "paths": paths}
            models.apigateway_backends[account_id][region].put_rest_api(api.id, doc, fail_on_warnings=False)
        return api

    create._cafe_patched = True  # type: ignore[attr-defined]
    models.RestAPI.create_from_cloudformation_json = classmethod(create)  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    _teach_moto_rest_api_bodies()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@dataclass
class Aws:
    """One clean moto account: the env for the deploy subprocess and a session for assertions."""

    env: dict[str, str]
    session: boto3.session.Session
    outputs_dir: Path

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.env["AWS_ENDPOINT_URL"])

    def run(
        self, module: str, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", module, *args],
            cwd=ROOT,
            env=env or self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{module} {' '.join(args)} failed:\n{result.stdout}\n{result.stderr[-4000:]}"
            )
        return result

    def deploy(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("infra.deploy", *args, check=check)


@pytest.fixture
def aws(moto_url: str, tmp_path: Path) -> Aws:
    request = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")  # noqa: S310 - local moto
    urllib.request.urlopen(request, timeout=10).close()  # noqa: S310 - local moto server
    keep = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env = {
        **keep,
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "CAFE_OUTPUTS_DIR": str(tmp_path / "outputs"),
        "CAFE_BUILD_DIR": str(tmp_path / "build"),
    }
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    return Aws(env=env, session=session, outputs_dir=tmp_path / "outputs")


@pytest.fixture
def data_stack(aws: Aws) -> dict[str, Any]:
    """The data stack of stage "t" (what every runtime deploy needs first); its saved outputs."""
    aws.deploy("data", "--stage", "t", "--deletion-protection", "false")
    record: dict[str, Any] = json.loads((aws.outputs_dir / "data-t.json").read_text())
    return record

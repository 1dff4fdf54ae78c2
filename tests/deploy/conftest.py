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


def _camel(properties: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's property names as the API's JSON spells them (ThrottlingRateLimit →
    throttlingRateLimit), one level deep: what moto's apigatewayv2 stage keeps."""
    return {
        key[0].lower() + key[1:]: _camel(value) if isinstance(value, dict) else value
        for key, value in properties.items()
    }


def _create_v2(kind: str, backend: Any, props: dict[str, Any]) -> str:
    """Create one AWS::ApiGatewayV2 resource with moto's own API; its physical id (what Ref gives)."""
    if kind == "Api":
        return str(
            backend.create_api(
                api_key_selection_expression=None, cors_configuration=None, description=None,
                disable_schema_validation=None, disable_execute_api_endpoint=None, name=props["Name"],
                protocol_type=props["ProtocolType"], tags={}, version=None,
                route_selection_expression=props.get("RouteSelectionExpression"),
            ).api_id
        )  # fmt: skip
    if kind == "Integration":
        return str(
            backend.create_integration(
                api_id=props["ApiId"], connection_id=None, connection_type=props.get("ConnectionType"),
                content_handling_strategy=props.get("ContentHandlingStrategy"), credentials_arn=None,
                description=None, integration_method=None, integration_subtype=None,
                integration_type=props["IntegrationType"], integration_uri=props["IntegrationUri"],
                passthrough_behavior=None, payload_format_version=None, request_parameters=None,
                request_templates=None, response_parameters=None, template_selection_expression=None,
                timeout_in_millis=None, tls_config=None,
            ).id
        )  # fmt: skip
    if kind == "Route":
        return str(
            backend.create_route(
                api_id=props["ApiId"], api_key_required=False, authorization_scopes=[],
                authorization_type=props.get("AuthorizationType", "NONE"), authorizer_id=None,
                model_selection_expression=None, operation_name=None, request_models=None,
                request_parameters=None, route_key=props["RouteKey"],
                route_response_selection_expression=None, target=props.get("Target"),
            ).route_id
        )  # fmt: skip
    if kind == "Stage":
        config = _camel({k: v for k, v in props.items() if k not in ("ApiId", "DeploymentId")})
        return str(backend.create_stage(props["ApiId"], config).name)
    return f"{kind.lower()}-{len(backend.apis)}"  # Deployment: moto keeps none; the stage is live


def _teach_moto_websocket_apis() -> None:
    """moto's CloudFormation has no AWS::ApiGatewayV2 resources (a stack would leave them out and
    every Ref to them unresolved). Create each with moto's own apigatewayv2 API, so the WebSocket
    API, its routes, integrations and stage exist and answer like any other moto resource."""
    from moto.apigatewayv2.models import apigatewayv2_backends
    from moto.cloudformation import parsing
    from moto.core.common_models import CloudFormationModel

    if "AWS::ApiGatewayV2::Api" in parsing.get_model_map():
        return

    def model(kind: str) -> type:
        def create(
            cls: Any, /, name: str, cfn_json: dict[str, Any], account_id: str, region: str, **kw: Any
        ) -> Any:
            resource = cls()
            resource.physical_resource_id = _create_v2(
                kind, apigatewayv2_backends[account_id][region], cfn_json["Properties"]
            )
            return resource

        def delete(self: Any, account_id: str, region: str) -> None:
            if kind == "Api":  # its routes, integrations and stages go with it
                apigatewayv2_backends[account_id][region].delete_api(self.physical_resource_id)

        return type(
            f"CafeV2{kind}",
            (CloudFormationModel,),
            {
                "cloudformation_type": staticmethod(lambda: f"AWS::ApiGatewayV2::{kind}"),
                "cloudformation_name_type": staticmethod(lambda: ""),
                "create_from_cloudformation_json": classmethod(create),
                "delete": delete,
            },
        )

    _v2_models.extend(model(kind) for kind in ("Api", "Integration", "Route", "Deployment", "Stage"))
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()


#: The shim's classes (kept referenced: CloudFormationModel.__subclasses__ holds them weakly).
_v2_models: list[type] = []


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    _teach_moto_rest_api_bodies()
    _teach_moto_websocket_apis()
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

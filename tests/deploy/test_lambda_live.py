"""Issue 28, item 3 in the templates and the deploy: the Lambda runtime's live push (API Gateway
WebSocket API, the order book's stream, the connections table), each function with only the IAM
it needs, and a Learner Lab deploy that still creates no IAM. The packaged templates are checked
as written; the deploy commands run unchanged against moto (conftest teaches moto's
CloudFormation the ApiGatewayV2 resources, which it lacks)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from cafe.stores import schema
from infra import lab, lambda_policy, policy
from infra import lambda_package as packaging
from infra.deploy import Deployer, DeployError

from .conftest import ROOT, Aws
from .test_deploy_moto import deployed_template, role_statements, saved, stack_resources
from .test_first_deploy_moto import _learner_lab_account, _stack_parameter

pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")

ACCOUNT = "123456789012"
STACK = "cafe-lambda-dev"
#: The stack's functions (logical ids) and what only some of them get.
FUNCTIONS = ("APIHandler", "WebsocketConnect", "WebsocketMessage", "WebsocketDisconnect", "OrderBookStream")
LIVE = FUNCTIONS[1:]
WITH_TOKEN = ("APIHandler", "WebsocketMessage")


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


# -- the data stack ---------------------------------------------------------------------------


def test_connections_table_comes_from_the_schema_module(templates: dict[str, Path]) -> None:
    template = load(templates["data"])
    orders = template["Resources"]["OrdersTable"]["Properties"]
    table = template["Resources"]["ConnectionsTable"]["Properties"]
    assert table["TableName"] == {"Fn::Sub": "cafe-${Stage}-connections"}
    assert table["KeySchema"] == schema.CONNECTIONS_KEY_SCHEMA
    assert table["AttributeDefinitions"] == schema.CONNECTIONS_ATTRIBUTE_DEFINITIONS
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    # recovery, encryption and protection as the order book has them; no stream of its own
    for key in ("PointInTimeRecoverySpecification", "SSESpecification", "DeletionProtectionEnabled"):
        assert table[key] == orders[key], key
    assert "StreamSpecification" not in table and "GlobalSecondaryIndexes" not in table
    outputs = template["Outputs"]
    assert outputs["TableStreamArn"]["Value"] == {"Fn::GetAtt": ["OrdersTable", "StreamArn"]}
    assert outputs["ConnectionsTableName"]["Value"] == {"Ref": "ConnectionsTable"}
    assert outputs["ConnectionsTableArn"]["Value"] == {"Fn::GetAtt": ["ConnectionsTable", "Arn"]}


def test_data_stack_creates_the_connections_table_and_outputs_the_stream(
    aws: Aws, data_stack: dict[str, Any]
) -> None:
    outputs = data_stack["outputs"]
    assert outputs["ConnectionsTableName"] == "cafe-t-connections"
    dynamodb = aws.client("dynamodb")
    table = dynamodb.describe_table(TableName="cafe-t-connections")["Table"]
    assert table["KeySchema"] == schema.CONNECTIONS_KEY_SCHEMA
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert outputs["ConnectionsTableArn"] == table["TableArn"]
    orders = dynamodb.describe_table(TableName="cafe-t")["Table"]
    assert outputs["TableStreamArn"] == orders["LatestStreamArn"]
    assert orders["StreamSpecification"]["StreamViewType"] == "NEW_IMAGE"


# -- the packaged templates -------------------------------------------------------------------


def test_the_stream_arn_is_a_parameter_never_a_literal(lambda_package: Path) -> None:
    sam = load(lambda_package / "sam.json")
    events = sam["Resources"]["OrderBookStream"]["Properties"]["Events"]
    assert [e["Properties"]["Stream"] for e in events.values()] == [{"Ref": "TableStreamArn"}]
    template = load(lambda_package / "template.json")
    mappings = _of_type(template, "AWS::Lambda::EventSourceMapping")
    assert [m["Properties"]["EventSourceArn"] for m in mappings.values()] == [{"Ref": "TableStreamArn"}]
    assert [m["Properties"]["FunctionName"] for m in mappings.values()] == [{"Ref": "OrderBookStream"}]
    # A batch that keeps failing is split and retried a few times, never held for 24 h.
    (mapping,) = mappings.values()
    assert mapping["Properties"]["MaximumRetryAttempts"] == 5
    assert mapping["Properties"]["BisectBatchOnFunctionError"] is True
    assert mapping["Properties"]["MaximumRecordAgeInSeconds"] == 300
    # neither the ARN chalice package was given nor any literal table or stream ARN is left
    for path in (lambda_package / "sam.json", lambda_package / "template.json"):
        text = path.read_text(encoding="utf-8")
        assert packaging.PACKAGE_STREAM_ARN not in text and "arn:aws:dynamodb:" not in text, path


def test_the_websocket_api_its_routes_and_stage(lambda_package: Path) -> None:
    template = load(lambda_package / "template.json")
    resources = template["Resources"]
    assert resources["WebsocketAPI"]["Properties"]["ProtocolType"] == "WEBSOCKET"
    routes = _of_type(template, "AWS::ApiGatewayV2::Route")
    targets = {
        r["Properties"]["RouteKey"]: r["Properties"]["Target"]["Fn::Join"][1][1] for r in routes.values()
    }
    assert targets == {
        "$connect": {"Ref": "WebsocketConnectAPIIntegration"},
        "$default": {"Ref": "WebsocketMessageAPIIntegration"},
        "$disconnect": {"Ref": "WebsocketDisconnectAPIIntegration"},
    }
    # the WebSocket stage is throttled by the same parameters as the REST stage
    rest = _of_type(template, "AWS::ApiGateway::Stage")
    [rest_settings] = [s["Properties"]["MethodSettings"][0] for s in rest.values()]
    settings = resources["WebsocketAPIStage"]["Properties"]["DefaultRouteSettings"]
    assert settings == {k: rest_settings[k] for k in ("ThrottlingRateLimit", "ThrottlingBurstLimit")}
    # neither stage has access logs (the account-wide role they need), each skip says why
    skips = resources["WebsocketAPIStage"]["Metadata"]["checkov"]["skip"]
    assert [s["id"] for s in skips] == ["CKV_AWS_95"] and "CloudWatch role" in skips[0]["comment"]
    assert "AccessLogSetting" not in json.dumps([*rest.values(), resources["WebsocketAPIStage"]])
    assert template["Outputs"]["WebSocketUrl"]["Value"] == {
        "Fn::Sub": "wss://${WebsocketAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api"
    }


def test_each_function_gets_its_environment(lambda_package: Path) -> None:
    resources = load(lambda_package / "template.json")["Resources"]
    host = "${WebsocketAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api"
    for name in FUNCTIONS:
        env = resources[name]["Properties"]["Environment"]["Variables"]
        assert env["CAFE_WS_URL"] == {"Fn::Sub": "wss://" + host}, name
        assert env["CAFE_TABLE"] == {"Ref": "TableName"}
        live = {k: env.get(k) for k in ("CAFE_WS_CALLBACK_URL", "CAFE_CONNECTIONS_TABLE")}
        if name in LIVE:
            assert live == {
                "CAFE_WS_CALLBACK_URL": {"Fn::Sub": "https://" + host},
                "CAFE_CONNECTIONS_TABLE": {"Ref": "ConnectionsTableName"},
            }
        else:
            assert live == {"CAFE_WS_CALLBACK_URL": None, "CAFE_CONNECTIONS_TABLE": None}
        assert ("CAFE_STAFF_TOKEN_PARAMETER" in env) is (name in WITH_TOKEN), name
    assert resources["OrderBookStream"]["Properties"]["Timeout"] == packaging.STREAM_TIMEOUT
    # reserved concurrency stays the HTTP function's option
    reserved = [n for n in FUNCTIONS if "ReservedConcurrentExecutions" in resources[n]["Properties"]]
    assert reserved == ["APIHandler"]


def _grants(statements: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(action, resource) pairs of a policy, with every intrinsic left as its JSON."""
    pairs = set()
    for statement in statements:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resource = statement["Resource"]
        resource = resource if isinstance(resource, str) else json.dumps(resource, sort_keys=True)
        pairs |= {(action, resource) for action in actions}
    return pairs


def test_only_tracing_has_a_wildcard_resource_and_only_live_functions_post(lambda_package: Path) -> None:
    template = load(lambda_package / "template.json")
    roles = _of_type(template, "AWS::IAM::Role")
    functions = {
        name: resource["Properties"]["Role"]["Fn::GetAtt"][0]
        for name, resource in _of_type(template, "AWS::Lambda::Function").items()
    }
    assert sorted(functions) == sorted(FUNCTIONS) and len(set(functions.values())) == len(FUNCTIONS)
    assert sorted(roles) == sorted(functions.values())  # one role per function, no shared one
    for name, role in functions.items():
        statements = [
            s for p in roles[role]["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]
        ]
        grants = _grants(statements)
        assert {a for a, r in grants if r == "*"} == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
        assert not [a for a, _ in grants if "*" in a], name
        posts = {r for a, r in grants if a == "execute-api:ManageConnections"}
        if name in ("WebsocketMessage", "OrderBookStream"):
            resource = (
                "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}"
                ":${WebsocketAPI}/*/POST/@connections/*"
            )
            assert posts == {json.dumps({"Fn::Sub": resource})}
        else:
            assert posts == set(), name


@pytest.fixture
def live_stack(aws: Aws, lambda_package: Path) -> dict[str, Any]:
    """The data stack and the Lambda stack of stage "dev" (the package fixture's stage) on moto."""
    aws.deploy("data", "--stage", "dev", "--deletion-protection", "false")
    result = aws.deploy("lambda", "--stage", "dev", "--package-dir", str(lambda_package))
    return {"stdout": result.stdout, "data": saved(aws, "data", "dev"), "lambda": saved(aws, "lambda", "dev")}


def _function_names(aws: Aws) -> dict[str, str]:
    resources = stack_resources(aws, STACK)
    return {name: resources[name] for name in FUNCTIONS}


def test_the_deployed_websocket_api_routes_each_event_to_its_function(
    aws: Aws, live_stack: dict[str, Any]
) -> None:
    apis = aws.client("apigatewayv2").get_apis()["Items"]
    assert [(a["Name"], a["ProtocolType"]) for a in apis] == [("cafe-dev-websocket-api", "WEBSOCKET")]
    api_id = apis[0]["ApiId"]
    v2 = aws.client("apigatewayv2")
    integrations = {
        i["IntegrationId"]: i["IntegrationUri"] for i in v2.get_integrations(ApiId=api_id)["Items"]
    }
    routed = {
        route["RouteKey"]: integrations[route["Target"].removeprefix("integrations/")]
        for route in v2.get_routes(ApiId=api_id)["Items"]
    }
    names = _function_names(aws)
    expected = {
        "$connect": "WebsocketConnect",
        "$default": "WebsocketMessage",
        "$disconnect": "WebsocketDisconnect",
    }
    assert sorted(routed) == sorted(expected)
    for key, function in expected.items():
        assert routed[key].endswith(f":function:{names[function]}/invocations"), (key, routed[key])
    assert [s["StageName"] for s in v2.get_stages(ApiId=api_id)["Items"]] == ["api"]
    # the URL: in the stack's outputs, the saved outputs file and the deploy's own words
    url = f"wss://{api_id}.execute-api.us-east-1.amazonaws.com/api"
    assert live_stack["lambda"]["outputs"]["WebSocketUrl"] == url
    assert f"live push (WebSocket): {url}" in live_stack["stdout"]
    functions = aws.client("lambda")
    for name, physical in names.items():
        env = functions.get_function(FunctionName=physical)["Configuration"]["Environment"]["Variables"]
        assert env["CAFE_WS_URL"] == url, name
        if name in LIVE:
            assert env["CAFE_WS_CALLBACK_URL"] == url.replace("wss://", "https://")
            assert env["CAFE_CONNECTIONS_TABLE"] == "cafe-dev-connections"


def test_the_stream_mapping_reads_the_data_stacks_stream(aws: Aws, live_stack: dict[str, Any]) -> None:
    stream = live_stack["data"]["outputs"]["TableStreamArn"]
    assert _stack_parameter(aws, STACK, "TableStreamArn") == stream
    assert _stack_parameter(aws, STACK, "ConnectionsTableName") == "cafe-dev-connections"
    stream_function = _function_names(aws)["OrderBookStream"]
    mappings = aws.client("lambda").list_event_source_mappings(FunctionName=stream_function)
    [mapping] = mappings["EventSourceMappings"]
    assert mapping["EventSourceArn"] == stream
    assert (mapping["BatchSize"], mapping["StartingPosition"]) == (100, "LATEST")
    deployed = _of_type(deployed_template(aws, STACK), "AWS::Lambda::EventSourceMapping")
    assert [m["Properties"]["EventSourceArn"] for m in deployed.values()] == [{"Ref": "TableStreamArn"}]


def _expected_grants(stream: str, api_id: str) -> dict[str, set[tuple[str, str]]]:
    """Every (action, resource) each function may do: the issue's list, spelled out."""
    arn = f"us-east-1:{ACCOUNT}"
    table = f"arn:aws:dynamodb:{arn}:table/cafe-dev"
    connections = f"arn:aws:dynamodb:{arn}:table/cafe-dev-connections"
    post = {("execute-api:ManageConnections", f"arn:aws:execute-api:{arn}:{api_id}/*/POST/@connections/*")}
    token = {("ssm:GetParameter", f"arn:aws:ssm:{arn}:parameter/cafe/dev/staff-token")}
    reads = {(a, table) for a in ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query")}
    reads.add(("dynamodb:Query", f"{table}/index/*"))
    writes = {(a, table) for a in policy.TABLE_ACTIONS} | {("dynamodb:Query", f"{table}/index/*")}

    def conn(*actions: str) -> set[tuple[str, str]]:
        return {(f"dynamodb:{a}", connections) for a in actions}

    forget = conn("GetItem", "BatchWriteItem")  # a gone connection's channels, then its items
    grants = {
        "APIHandler": writes | token,
        "WebsocketConnect": set(),  # $connect only accepts: no table, nothing to post to yet
        "WebsocketMessage": reads | conn("UpdateItem", "PutItem", "DeleteItem") | forget | post | token,
        "WebsocketDisconnect": forget,
        "OrderBookStream": {(a, stream) for a in policy.STREAM_READ_ACTIONS}
        | reads
        | conn("Query", "UpdateItem")  # a channel's subscribers; a first message's digest cleared
        | forget
        | post,
    }
    for name, granted in grants.items():
        granted |= {
            (a, f"arn:aws:logs:{arn}:log-group:/aws/lambda/{STACK}-{name}-*")
            for a in ("logs:CreateLogStream", "logs:PutLogEvents")
        }
        granted |= {("xray:PutTraceSegments", "*"), ("xray:PutTelemetryRecords", "*")}
    return grants


def test_each_deployed_function_may_do_only_what_it_needs(aws: Aws, live_stack: dict[str, Any]) -> None:
    api_id = aws.client("apigatewayv2").get_apis()["Items"][0]["ApiId"]
    expected = _expected_grants(live_stack["data"]["outputs"]["TableStreamArn"], api_id)
    functions = aws.client("lambda")
    roles = set()
    for name, physical in _function_names(aws).items():
        role = functions.get_function(FunctionName=physical)["Configuration"]["Role"].rsplit("/", 1)[1]
        roles.add(role)
        assert _grants(role_statements(aws, role)) == expected[name], name
    assert len(roles) == len(FUNCTIONS)


def test_lab_mode_runs_every_function_as_labrole_with_no_iam(aws: Aws, lab_lambda_package: Path) -> None:
    _learner_lab_account(aws)
    roles_before = {r["RoleName"] for r in aws.client("iam").list_roles()["Roles"]}
    aws.deploy("data", "--stage", "dev", "--lab", "--deletion-protection", "false")
    aws.deploy("lambda", "--stage", "dev", "--lab", "--package-dir", str(lab_lambda_package))
    listing = aws.client("cloudformation").list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    assert not [r for r in listing if r["ResourceType"].startswith("AWS::IAM::")]
    assert {r["RoleName"] for r in aws.client("iam").list_roles()["Roles"]} == roles_before
    functions = aws.client("lambda")
    for name, physical in _function_names(aws).items():
        role = functions.get_function(FunctionName=physical)["Configuration"]["Role"]
        assert role == f"arn:aws:iam::{ACCOUNT}:role/{lab.LAB_ROLE}", name
    stream = saved(aws, "data", "dev")["outputs"]["TableStreamArn"]
    mappings = functions.list_event_source_mappings(FunctionName=_function_names(aws)["OrderBookStream"])
    assert [m["EventSourceArn"] for m in mappings["EventSourceMappings"]] == [stream]
    assert len(aws.client("apigatewayv2").get_apis()["Items"]) == 1
    template = load(lab_lambda_package / "template.json")
    assert not lab.iam_resources(template) and not lab.iam_resources(load(lab_lambda_package / "sam.json"))


# -- refusals ---------------------------------------------------------------------------------


def test_a_data_stack_without_the_live_outputs_is_refused() -> None:
    deployer = Deployer("t", "us-east-1")
    old = {"TableName": "cafe-t", "ArtifactBucket": "b"}
    with pytest.raises(
        DeployError, match=r"no ConnectionsTableName, TableStreamArn output.*make deploy-data"
    ):
        deployer._lambda_tables(old)


def _calls(module: str, receiver: str) -> set[str]:
    """The boto3 operations a shared module calls on ``receiver`` (e.g. ``self.client``)."""
    source = (ROOT / "shared" / "cafe" / "live" / module).read_text(encoding="utf-8")
    return set(re.findall(re.escape(receiver) + r"\.([a-z_]+)\(", source))


def test_the_grants_match_what_the_live_modules_call() -> None:
    """The connections table's grants, all functions together, are exactly the operations
    cafe.live.connections_dynamodb performs (no call left ungranted, no grant left unused); the
    poster only posts (POST @connections: no GET or DELETE of a connection is granted)."""
    called = {
        "dynamodb:" + op.title().replace("_", "") for op in _calls("connections_dynamodb.py", "self.client")
    }
    granted = {a for actions in lambda_policy.CONNECTION_ACTIONS.values() for a in actions}
    assert called == granted
    assert _calls("poster.py", "client") == {"post_to_connection"}


def test_a_function_without_its_own_policy_fails_the_packaging(lambda_package: Path) -> None:
    sam = load(lambda_package / "sam.json")
    extra = json.loads(json.dumps(sam["Resources"]["WebsocketConnect"]))
    sam["Resources"]["NewHandler"] = extra
    with pytest.raises(packaging.PackageError, match=r"\['NewHandler'\] have no policy"):
        packaging.finish_template(sam, "dev")
    assert set(lambda_policy.LOGICAL_IDS.values()) == set(FUNCTIONS)

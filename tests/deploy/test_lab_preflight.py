"""Issue 25 offline, in-process: the preflight's probes against botocore's Stubber (every refusal
AWS can answer with) and moto, the credentials' messages, the lab's options, the AMI fallback,
the image tag and the scale-out subnets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from infra import ami, credentials, image, lab, network, preflight, service_roles
from infra.lambda_package import expand, finish_template

REGION = "us-east-1"
LAB_ARN = "arn:aws:sts::111122223333:assumed-role/voclabs/user4021=Student"
SESSION = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name=REGION)


def _client(service: str) -> Any:
    return SESSION.client(service)


def _lab_identity() -> credentials.Identity:
    return credentials.Identity(account="111122223333", arn=LAB_ARN, expires=None)


@pytest.fixture
def moto_session() -> Iterator[boto3.session.Session]:
    with mock_aws():
        yield boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name=REGION)


# -- credentials ---------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["ExpiredToken", "InvalidClientTokenId", "RequestExpired"])
def test_expired_credentials_get_a_plain_answer(code: str) -> None:
    sts = _client("sts")
    with Stubber(sts) as stub:
        stub.add_client_error("get_caller_identity", service_error_code=code, http_status_code=403)
        with pytest.raises(credentials.CredentialsError) as raised:
            credentials.identity(SESSION, sts)
    message = str(raised.value)
    assert code in message and "expired" in message and "AWS Details" in message


def test_credentials_past_their_expiry_are_refused_before_any_call() -> None:
    class Expired:
        _expiry_time = datetime.now(UTC) - timedelta(minutes=1)

    class Session:
        def get_credentials(self) -> Expired:
            return Expired()

    sts = _client("sts")
    with Stubber(sts) as stub:
        stub.add_response("get_caller_identity", {"Account": "111122223333", "Arn": LAB_ARN, "UserId": "x"})
        with pytest.raises(credentials.CredentialsError, match="the AWS credentials expired at"):
            credentials.identity(Session(), sts)


def test_lab_credentials_need_lab_mode() -> None:
    who = _lab_identity()
    assert who.is_lab_session and who.role_arn == "arn:aws:iam::111122223333:role/voclabs"
    with pytest.raises(credentials.CredentialsError, match="LAB=1 is not set") as raised:
        credentials.check_mode(who, lab=False)
    assert "make lab-check LAB=1" in str(raised.value)
    credentials.check_mode(who, lab=True)
    user = credentials.Identity("1", "arn:aws:iam::1:user/dev", None)
    credentials.check_mode(user, lab=False)
    assert not user.is_lab_session and user.role_arn == "arn:aws:iam::1:user/dev"


def test_explain_ignores_errors_that_are_not_about_credentials() -> None:
    from botocore.exceptions import ClientError, NoCredentialsError

    assert "no usable AWS credentials" in (credentials.explain(NoCredentialsError()) or "")
    other = ClientError({"Error": {"Code": "ValidationError", "Message": "x"}}, "CreateStack")
    assert credentials.explain(other) is None and credentials.explain(KeyError("x")) is None


# -- the preflight's probes, refusals from the Stubber ------------------------------------------------


def _simulation(decisions: dict[str, str]) -> dict[str, Any]:
    return {
        "EvaluationResults": [{"EvalActionName": a, "EvalDecision": d} for a, d in decisions.items()],
        "IsTruncated": False,
    }


def test_simulator_refusals_name_the_make_target_they_break() -> None:
    iam = _client("iam")
    report = preflight.Report()
    caller = {a: "allowed" for actions in preflight.CALLER_ACTIONS.values() for a in actions}
    caller |= {"iam:CreateServiceLinkedRole": "implicitDeny", "ecs:CreateService": "explicitDeny"}
    lab_role = {a: "allowed" for a in (*preflight.LAB_ROLE_ACTIONS, *preflight.STREAM_ACTIONS)} | {
        "xray:PutTraceSegments": "implicitDeny",
        "xray:PutTelemetryRecords": "implicitDeny",
        "execute-api:ManageConnections": "implicitDeny",
    }
    with Stubber(iam) as stub:
        stub.add_response("simulate_principal_policy", _simulation(caller))
        stub.add_response(
            "simulate_principal_policy",
            _simulation(lab_role),
            {"PolicySourceArn": "arn:aws:iam::111122223333:role/LabRole", "ActionNames": sorted(lab_role)},
        )
        preflight.probe_simulator(report, iam, _lab_identity(), lab_mode=True)
    assert report.status("sim:deploy-fargate") == preflight.REFUSED
    assert [f.key for f in report.blocking("deploy-fargate")] == ["sim:deploy-fargate"]
    assert report.blocking("deploy-ec2") == [] and report.status("sim:deploy-ec2") == preflight.ALLOWED
    assert (
        report.status("sim:slr") == preflight.REFUSED and report.status("sim:lab-role") == preflight.ALLOWED
    )
    assert report.status("sim:xray") == preflight.REFUSED and report.blocking("deploy-lambda") == []
    # Lambda's live push: the stream reads allowed; posting refused is a warning, not a stop
    assert report.status("sim:lab-role-stream") == preflight.ALLOWED
    assert report.status("sim:lab-role-push") == preflight.REFUSED
    table = report.table()
    assert "denied: ecs:CreateService" in table and "[make deploy-fargate]" in table
    assert "LambdaTracing=PassThrough" in table


def test_a_refused_simulator_makes_its_checks_unknown() -> None:
    iam = _client("iam")
    report = preflight.Report()
    with Stubber(iam) as stub:
        for _ in range(2):
            stub.add_client_error("simulate_principal_policy", "AccessDenied", http_status_code=403)
        preflight.probe_simulator(report, iam, _lab_identity(), lab_mode=True)
    assert [f.status for f in report.findings] == [preflight.UNKNOWN, preflight.UNKNOWN]
    assert "not available (AccessDenied)" in report.findings[0].detail
    assert report.status("sim:xray") == preflight.UNKNOWN and not report.blocking("deploy-lambda")


@pytest.mark.parametrize(
    ("probe", "service", "operation", "key"),
    [
        (preflight.probe_load_balancers, "elbv2", "create_load_balancer", "probe:elb"),
        (preflight.probe_auto_scaling, "autoscaling", "create_auto_scaling_group", "probe:autoscaling"),
        (
            preflight.probe_scalable_targets,
            "application-autoscaling",
            "register_scalable_target",
            "probe:scalable-target",
        ),
    ],
)
@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("AccessDenied", preflight.REFUSED),
        ("AccessDeniedException", preflight.REFUSED),
        ("ValidationError", preflight.ALLOWED),
        ("ValidationException", preflight.ALLOWED),
    ],
)
def test_access_denied_versus_validation(
    probe: Any, service: str, operation: str, key: str, code: str, expected: str
) -> None:
    client = _client(service)
    report = preflight.Report()
    with Stubber(client) as stub:
        stub.add_client_error(operation, code, http_status_code=400)
        probe(report, client)
    assert report.status(key) == expected
    finding = report.findings[0]
    if expected == preflight.REFUSED:
        assert finding.meaning and finding.targets
        assert key != "probe:autoscaling" or not finding.blocking  # scale-out is an option


def test_probes_create_nothing_on_moto(moto_session: boto3.session.Session) -> None:
    report = preflight.Report()
    preflight.probe_load_balancers(report, moto_session.client("elbv2"))
    preflight.probe_auto_scaling(report, moto_session.client("autoscaling"))
    preflight.probe_scalable_targets(report, moto_session.client("application-autoscaling"))
    assert {f.status for f in report.findings} == {preflight.ALLOWED}
    assert moto_session.client("elbv2").describe_load_balancers()["LoadBalancers"] == []
    assert moto_session.client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"] == []
    targets = moto_session.client("application-autoscaling").describe_scalable_targets(ServiceNamespace="ecs")
    assert targets["ScalableTargets"] == []


def test_run_instances_dry_run(moto_session: boto3.session.Session) -> None:
    ec2 = moto_session.client("ec2")
    image_id = ami.from_images(ec2, "arm64")
    report = preflight.Report()
    preflight.probe_run_instances(report, ec2, image_id=image_id, instance_type="t4g.small", profile=None)
    assert report.status("ec2:dry-run") == preflight.ALLOWED, report.findings
    assert ec2.describe_instances()["Reservations"] == []
    # the same call refused: UnauthorizedOperation (what a lab answers for a type it does not allow)
    stubbed = _client("ec2")
    real = moto_session.client("ec2")
    vpcs = real.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])
    subnets = real.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpcs["Vpcs"][0]["VpcId"]]}])
    offerings = real.describe_instance_type_offerings(
        LocationType="availability-zone", Filters=[{"Name": "instance-type", "Values": ["t3.large"]}]
    )
    refused = preflight.Report()
    with Stubber(stubbed) as stub:
        for operation, answer in (
            ("describe_vpcs", vpcs),
            ("describe_subnets", subnets),
            ("describe_instance_type_offerings", offerings),
            ("describe_subnets", subnets),
        ):
            stub.add_response(operation, {k: v for k, v in answer.items() if k != "ResponseMetadata"})
        stub.add_client_error("run_instances", "UnauthorizedOperation", http_status_code=403)
        preflight.probe_run_instances(
            refused, stubbed, image_id=image_id, instance_type="t3.large", profile=lab.LAB_INSTANCE_PROFILE
        )
    finding = refused.findings[0]
    assert finding.status == preflight.REFUSED and refused.blocking("deploy-ec2") == [finding]
    assert "t3.large" in finding.meaning


def test_lab_role_and_instance_profile(moto_session: boto3.session.Session) -> None:
    iam = moto_session.client("iam")
    report = preflight.Report()
    preflight.probe_lab_role(report, iam)
    preflight.probe_instance_profile(report, iam)
    assert report.status("lab-role") == report.status("lab-instance-profile") == preflight.REFUSED
    assert {t for f in report.findings for t in f.targets} == {
        "deploy-lambda",
        "deploy-fargate",
        "deploy-ec2",
    }
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["lambda.amazonaws.com"]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName=lab.LAB_ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    iam.create_instance_profile(InstanceProfileName=lab.LAB_INSTANCE_PROFILE)
    iam.add_role_to_instance_profile(InstanceProfileName=lab.LAB_INSTANCE_PROFILE, RoleName=lab.LAB_ROLE)
    report = preflight.Report()
    preflight.probe_lab_role(report, iam)
    preflight.probe_instance_profile(report, iam)
    assert report.status("lab-role") == preflight.ALLOWED
    assert report.status("lab-role-trust:lambda.amazonaws.com") == preflight.ALLOWED
    # tasks cannot assume it, and the profile's role does not trust EC2
    assert [f.key for f in report.blocking("deploy-fargate")] == ["lab-role-trust:ecs-tasks.amazonaws.com"]
    assert [f.key for f in report.blocking("deploy-ec2")] == ["lab-instance-profile"]


def test_service_linked_roles_in_a_lab(moto_session: boto3.session.Session) -> None:
    iam = moto_session.client("iam")
    report = preflight.Report()
    preflight.probe_service_roles(report, iam, lab_mode=True)
    statuses = {f.check: f.status for f in report.findings}
    # ECS's must exist (the deploy does not create it); AWS creates the others on first use
    assert statuses == {
        "AWSServiceRoleForECS": preflight.REFUSED,
        "AWSServiceRoleForApplicationAutoScaling_ECSService": preflight.UNKNOWN,
        "AWSServiceRoleForElasticLoadBalancing": preflight.UNKNOWN,
        "AWSServiceRoleForAutoScaling": preflight.UNKNOWN,
    }
    for role in service_roles.ALL:
        iam.create_service_linked_role(AWSServiceName=role.service)
    report = preflight.Report()
    preflight.probe_service_roles(report, iam, lab_mode=True)
    assert {f.status for f in report.findings} == {preflight.ALLOWED}


def test_service_roles_are_created_outside_a_lab(moto_session: boto3.session.Session) -> None:
    iam = moto_session.client("iam")
    assert service_roles.ensure_all(iam, service_roles.FARGATE) == {
        r.name: "created" for r in service_roles.FARGATE
    }
    assert all(service_roles.has_role(iam, r) for r in service_roles.FARGATE)
    assert not service_roles.has_role(iam, service_roles.AUTOSCALING)
    with pytest.raises(service_roles.ServiceRoleError, match="AWSServiceRoleForAutoScaling does not exist"):
        service_roles.ensure(iam, service_roles.AUTOSCALING, may_create=False)
    assert service_roles.ensure(iam, service_roles.ELB, may_create=False) == "present"


def test_the_whole_preflight_in_a_fresh_moto_account(moto_session: boto3.session.Session) -> None:
    """In-process moto has no policy simulator: its rows are unknown, every other probe answers."""
    iam = moto_session.client("iam")
    clients: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in clients:
            clients[service] = moto_session.client(service)
        return clients[service]

    with Stubber(iam) as stub:
        stub.add_client_error("simulate_principal_policy", "AccessDenied", http_status_code=403)
        clients["iam"] = _NoSimulator(moto_session.client("iam"), iam)
        report = preflight.run(moto_session, client, lab_mode=False, instance_type="t3.small")
    assert report.status("identity") == preflight.ALLOWED and report.status("sim") == preflight.UNKNOWN
    assert report.status("ec2:dry-run") == preflight.ALLOWED
    assert report.status("ami:ssm") == report.status("ami:images") == preflight.ALLOWED
    assert report.status("lab-role") == preflight.UNKNOWN  # not probed outside a lab
    assert not [f for f in report.findings if f.status == preflight.REFUSED]


class _NoSimulator:
    """moto's IAM, with the simulator call answered by a stubbed client (moto has none)."""

    def __init__(self, iam: Any, stubbed: Any) -> None:
        self._iam, self._stubbed = iam, stubbed

    def simulate_principal_policy(self, **kwargs: Any) -> Any:
        return self._stubbed.simulate_principal_policy(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._iam, name)


# -- the lab's options --------------------------------------------------------------------------


def test_lab_options_are_refused_or_warned_about() -> None:
    params = {"Mode": "scale-out", "WafRateLimit": "1000", "CertificateArn": "arn:x", "UseSpot": "true"}
    assert lab.requested_options(params) == ["scale-out", "waf", "certificate", "spot"]
    assert lab.requested_options({"WafRateLimit": "0", "UseSpot": "false"}) == []
    with pytest.raises(lab.LabLimitError, match="EC2_MODE=scale-out is refused in this lab"):
        lab.check_options(["scale-out"], {"probe:elb": "allowed", "probe:autoscaling": "refused"})
    with pytest.raises(lab.LabLimitError, match="CERTIFICATE_ARN"):
        lab.check_options(["certificate"], {"probe:acm": "refused"})
    warnings = lab.check_options(["waf", "spot"], {})
    assert len(warnings) == 2 and all("could not confirm" in w for w in warnings)
    allowed = dict.fromkeys(lab.OPTIONS["scale-out"][1], "allowed")
    assert lab.check_options(["scale-out"], allowed) == []


# -- the AMI, the image tag, the subnets, the Lambda tracing ---------------------------------------------


def test_ami_falls_back_to_describe_images_when_ssm_is_refused(moto_session: boto3.session.Session) -> None:
    ssm = _client("ssm")
    ec2 = moto_session.client("ec2")
    with Stubber(ssm) as stub:
        stub.add_client_error("get_parameter", "AccessDeniedException", http_status_code=400)
        found = ami.current(ssm, ec2, "x86_64")
    assert "describe-images" in found.source and "AccessDeniedException" in found.source
    image_found = ec2.describe_images(ImageIds=[found.image_id])["Images"][0]
    assert image_found["Architecture"] == "x86_64" and image_found["Name"].startswith("al2023-ami-2023.")
    # the newest of Amazon's al2023 standard images of that architecture
    candidates = ec2.describe_images(
        Owners=["amazon"], Filters=[{"Name": "architecture", "Values": ["x86_64"]}]
    )["Images"]
    newest = max(
        (i for i in candidates if i["Name"].startswith("al2023-ami-2023.")),
        key=lambda i: (i["CreationDate"], i["Name"]),
    )
    assert found.image_id == newest["ImageId"]
    with Stubber(ssm) as stub:
        stub.add_response(
            "get_parameter", {"Parameter": {"Name": ami.SSM_PATH["arm64"], "Value": "ami-0123abcd"}}
        )
        assert ami.current(ssm, ec2, "arm64") == ami.Found("ami-0123abcd", f"SSM {ami.SSM_PATH['arm64']}")


def test_ami_lookup_refused_everywhere_says_what_to_do() -> None:
    ssm, ec2 = _client("ssm"), _client("ec2")
    with Stubber(ssm) as s, Stubber(ec2) as e:
        s.add_client_error("get_parameter", "AccessDeniedException", http_status_code=400)
        e.add_client_error("describe_images", "UnauthorizedOperation", http_status_code=403)
        with pytest.raises(ami.AmiLookupError, match="AMI_ID=ami-"):
            ami.current(ssm, ec2, "arm64")


def test_image_tag_carries_the_cpu_architecture() -> None:
    arm, x86 = image.image_tag(architecture="ARM64"), image.image_tag(architecture="X86_64")
    assert arm.endswith("-arm64") and x86.endswith("-x86_64")
    assert arm.removesuffix("-arm64") == x86.removesuffix("-x86_64") and arm != x86
    with pytest.raises(ValueError, match="CpuArchitecture"):
        image.image_tag(architecture="RISCV")


def test_scale_out_uses_only_zones_offering_the_type(moto_session: boto3.session.Session) -> None:
    ec2 = moto_session.client("ec2")
    subnets = {s["AvailabilityZone"]: s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]}
    ids = [subnets[zone] for zone in sorted(subnets)]
    chosen = network.scale_out_subnets(ec2, ids, "t4g.small")
    assert subnets["us-east-1e"] in ids and subnets["us-east-1e"] not in chosen
    assert chosen == [s for s in ids if s != subnets["us-east-1e"]]
    with pytest.raises(network.NoZoneOffersTypeError, match="scale-out needs two"):
        network.scale_out_subnets(ec2, [subnets["us-east-1a"], subnets["us-east-1e"]], "t4g.small")


def _function(handler: str, **extra: Any) -> dict[str, Any]:
    properties = {"Runtime": "python3.11", "Handler": handler, "Tracing": "Active", **extra}
    return {"Type": "AWS::Serverless::Function", "Properties": properties}


def _sam() -> dict[str, Any]:
    """The smallest chalice-shaped SAM template finish_template accepts: the HTTP function and API,
    the WebSocket handlers and API stage, the stream handler, a role."""
    stream = {
        "Type": "DynamoDB",
        "Properties": {"Stream": "arn:aws:dynamodb:x", "StartingPosition": "LATEST"},
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "APIHandler": _function("app.app"),
            "WebsocketConnect": _function("app.ws_connect"),
            "WebsocketMessage": _function("app.ws_message"),
            "WebsocketDisconnect": _function("app.ws_disconnect"),
            "OrderBookStream": _function("app.order_book_stream", Events={"Stream": stream}),
            "RestAPI": {
                "Type": "AWS::Serverless::Api",
                "Properties": {"StageName": "api", "DefinitionBody": {"swagger": "2.0", "paths": {}}},
            },
            "WebsocketAPI": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"ProtocolType": "WEBSOCKET"}},
            "WebsocketAPIStage": {
                "Type": "AWS::ApiGatewayV2::Stage",
                "Properties": {"ApiId": {"Ref": "WebsocketAPI"}, "StageName": "api"},
            },
            "DefaultRole": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}},
        },
        "Outputs": {"EndpointURL": {"Value": {"Fn::Sub": "https://${RestAPI}.execute-api.x/api/"}}},
    }


@pytest.mark.parametrize(("lab_mode", "mode"), [(True, {"Ref": "LambdaTracing"}), (False, "Active")])
def test_lambda_tracing_is_a_parameter_only_in_a_lab(lab_mode: bool, mode: Any) -> None:
    sam = finish_template(_sam(), "dev", lab=lab_mode)
    resources = expand(sam, REGION)["Resources"]
    functions = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Function"]
    assert len(functions) == 5  # every function, the WebSocket and stream handlers too
    assert [f["Properties"]["TracingConfig"] for f in functions] == [{"Mode": mode}] * 5
    assert ("LambdaTracing" in sam["Parameters"]) is lab_mode
    if lab_mode:
        assert sam["Parameters"]["LambdaTracing"]["Default"] == "PassThrough"
        assert "DefaultRole" not in resources

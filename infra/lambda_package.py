"""``make package-lambda``: the Chalice app as a SAM template + zip, offline, no credentials.

Steps (each a function, tested):

1. ``vendor_shared`` — ``chalice_app/vendor/`` is built from ``shared/`` (pip, no deps), so the
   domain package reaches the zip without a copy in git;
2. ``stage_project`` — a staging copy of the app under ``build/lambda/<stage>/project`` with the
   deploy settings merged into ``.chalice/config.json`` (arm64, tracing, log retention, the
   powertools environment, one least-privilege policy file per function from
   :mod:`infra.lambda_policy`: ``policy-<stage>.json`` for the HTTP function,
   ``policy-<stage>-<function>.json`` for the WebSocket handlers and the stream handler); the
   lead's config stays as written;
3. ``chalice package`` (needs only ``AWS_DEFAULT_REGION``; downloads manylinux wheels). The app's
   ``WEBSOCKETS`` handlers become an ``AWS::ApiGatewayV2`` WebSocket API (routes, integrations,
   stage, invoke permissions) and its ``on_dynamodb_record`` handler an event source mapping;
4. ``add_bytecode`` — precompiled ``.pyc`` (unchecked-hash, so unzipped mtimes don't matter):
   imports from a zip without bytecode are about twice as slow at cold start;
5. ``finish_template`` — the tables and the order book's stream become parameters
   (``TableName``, ``ConnectionsTableName``, ``TableStreamArn``: the event source mapping never
   holds a literal ARN) and the policies' ``${...}`` placeholders become ``Fn::Sub``, so the ARNs
   are resolved in the target account without knowing it offline; the staff token is a parameter
   (read only by the functions that check it); the code location is a parameter pair
   (``CodeBucket``/``CodeKey``) filled in by the deploy after the upload; each function gets its
   environment (``CAFE_WS_URL`` and, for the live functions, ``CAFE_WS_CALLBACK_URL`` and
   ``CAFE_CONNECTIONS_TABLE``, built from the WebSocket API with ``Fn::Sub``); both API stages
   are throttled (``ThrottleRateLimit``/``ThrottleBurstLimit``), the HTTP function may get
   reserved concurrency (``ReservedConcurrency``, 0 = none), ``CAFE_STAFF_REQUIRE_HTTPS``
   is "1" (API Gateway is HTTPS-only); the stack outputs ``Url`` and ``WebSocketUrl``. In
   Learner Lab mode (``lab=True``) chalice's roles are dropped and every function runs as the
   lab's ``LabRole``, with X-Ray tracing a parameter (``LambdaTracing``, default PassThrough:
   active tracing needs X-Ray writes on LabRole, which only the deploy's preflight can confirm);
6. ``expand`` — the SAM template expanded into plain CloudFormation with AWS's own translator
   (aws-sam-translator), written next to it as ``template.json``: the deploy creates that, so
   what is deployed is reviewable offline and moto can create it in the tests.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import copy
import fcntl
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from infra import lab as learner_lab
from infra import lambda_policy, runtime_env
from infra.cfn import NO_VALUE, Json, checkov_skips, equals, if_, not_, ref, sub

ROOT = Path(__file__).resolve().parents[1]
APP_DIR = ROOT / "chalice_app"
#: What Chalice packages from a project (everything else is ignored by it anyway).
PROJECT_FILES = ("app.py", "requirements.txt", "chalicelib", "vendor")
#: A DynamoDB stream's ARN (the deploy passes the data stack's; its label is a timestamp).
STREAM_ARN_PATTERN = (
    r"^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]+/stream/[0-9A-Za-z:._-]+$"
)
#: What ``chalice package`` sees as CAFE_TABLE_STREAM_ARN (the app puts it in the event source
#: mapping): fixed, so a stream ARN in the packager's own environment never reaches a template;
#: finish_template replaces it with the ``TableStreamArn`` parameter anyway.
PACKAGE_STREAM_ARN = (
    "arn:aws:dynamodb:us-east-1:000000000000:table/cafe-package/stream/replaced-by-TableStreamArn"
)
#: The stream function's timeout: a batch of up to 100 changes, each posted to its channel's
#: subscribers. A timeout fails the whole batch and Lambda retries it (subscribers then get the
#: delivered part twice), and the function is billed only for the time it runs, so it gets room.
STREAM_TIMEOUT = 60


#: When Lambda deprecates each Python runtime: AWS's dates (Lambda "Lambda runtimes" page) as
#: cfn-lint ships them (``LmbdRuntimeLifecycle.json``, refreshed with each cfn-lint release, which
#: also flags deprecated runtimes in templates), so there is no second copy here. Chalice picks the runtime
#: from the Python that runs it (``chalice.config.Config.lambda_python_version``; chalice 1.34
#: knows 3.10-3.14), so moving the function to a newer runtime is running ``make package-lambda``
#: from a venv on that Python (``make setup PYTHON=python3.13``) — which also compiles the zip's
#: bytecode for it. ``LAMBDA_RUNTIME=python3.13`` overrides the runtime from any Python (no .pyc
#: then: bytecode of another minor version would be ignored).
def runtime_deprecation() -> dict[str, date]:
    """Lambda Python runtime → deprecation date, from cfn-lint's copy of AWS's table."""
    import cfnlint

    table = Path(cfnlint.__file__).parent / "data" / "AdditionalSpecs" / "LmbdRuntimeLifecycle.json"
    lifecycle: dict[str, dict[str, str]] = json.loads(table.read_text(encoding="utf-8"))
    return {
        name: date.fromisoformat(dates["deprecated"])
        for name, dates in lifecycle.items()
        if name.startswith("python3") and "deprecated" in dates
    }


#: The runtime the project plans for: supported well past 2027.
TARGET_RUNTIME = "python3.13"
#: Stage-wide API Gateway throttling defaults (requests per second, burst): far above a cafe's
#: load, far below the account's 10,000 rps, so a flood costs little before it is refused (429).
THROTTLE_RATE = 100
THROTTLE_BURST = 200
#: Learner Lab mode: the parameter choosing the function's X-Ray tracing. Lambda refuses to create
#: a function with active tracing whose role cannot call xray:PutTraceSegments, and nothing shows
#: the lab's LabRole may; so a lab template traces only when the deploy's preflight saw the
#: simulator allow it (PassThrough otherwise: the function still runs, untraced).
TRACING_PARAMETER = "LambdaTracing"


class PackageError(RuntimeError):
    """chalice package failed or produced something unexpected."""


def interpreter_runtime() -> str:
    return f"python{sys.version_info.major}.{sys.version_info.minor}"


def runtime_warning(runtime: str, today: date | None = None) -> str | None:
    """A note when ``runtime`` leaves Lambda's support within two years (or has no known date)."""
    today = today or date.today()
    ends = runtime_deprecation().get(runtime)
    if ends is None:
        return f"{runtime}: no known Lambda deprecation date; check the Lambda runtimes page"
    if (ends - today).days < 730:
        return (
            f"{runtime} is deprecated on Lambda on {ends.isoformat()}: package from a venv on "
            f"{TARGET_RUNTIME.removeprefix('python')} (make setup PYTHON={TARGET_RUNTIME}) "
            f"or set LAMBDA_RUNTIME={TARGET_RUNTIME}"
        )
    return None


def deploy_settings(stage: str, *, memory: int = 512, log_retention_days: int = 14) -> Json:
    """The per-stage Chalice settings deploys need, merged over the app's own config."""
    return {
        "lambda_architecture": "arm64",
        "lambda_memory_size": memory,
        "lambda_timeout": 10,
        "xray": True,
        "log_retention_in_days": log_retention_days,
        "autogen_policy": False,
        # Each function its own role and policy file (infra/lambda_policy.py): chalice's
        # stage-wide file would give every function the union of what any of them needs.
        "iam_policy_file": lambda_policy.policy_file(stage, lambda_policy.HTTP),
        "lambda_functions": {
            function: {
                "iam_policy_file": lambda_policy.policy_file(stage, function),
                **({"lambda_timeout": STREAM_TIMEOUT} if function == lambda_policy.STREAM else {}),
            }
            for function in lambda_policy.LIVE
        },
        "environment_variables": {
            "CAFE_STORE": "dynamodb",
            "CAFE_TABLE": f"cafe-{stage}",  # replaced by Ref TableName in finish_template
            "CAFE_STAGE": stage,
            **runtime_env.POWERTOOLS,
        },
        "tags": {"project": "cafe-compute", "stage": stage},
    }


def vendor_shared(app_dir: Path = APP_DIR, shared_dir: Path = ROOT / "shared") -> Path:
    """(Re)build ``vendor/`` with the shared package only (its dependencies come from
    requirements.txt; boto3 is part of the Lambda runtime)."""
    vendor = app_dir / "vendor"
    shutil.rmtree(vendor, ignore_errors=True)
    with tempfile.TemporaryDirectory() as build_dir:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--no-compile",
                "--disable-pip-version-check",
                "--target",
                str(vendor),
                str(shared_dir),
            ],
            check=True,
            env={**os.environ, "TMPDIR": build_dir},
        )
    for extra in vendor.glob("*.dist-info"):
        shutil.rmtree(extra)
    return vendor


def stage_project(stage: str, out_dir: Path, app_dir: Path = APP_DIR, **settings: Any) -> Path:
    """Copy the app into ``out_dir/project`` with the merged config and the policy file."""
    project = out_dir / "project"
    shutil.rmtree(project, ignore_errors=True)
    (project / ".chalice").mkdir(parents=True)
    for name in PROJECT_FILES:
        source = app_dir / name
        if source.is_dir():
            shutil.copytree(source, project / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif source.is_file():
            shutil.copy2(source, project / name)
    if not (project / "vendor" / "cafe").is_dir():
        raise PackageError("chalice_app/vendor/cafe is missing: run make lambda-vendor")
    config = json.loads((app_dir / ".chalice" / "config.json").read_text(encoding="utf-8"))
    stage_config = config.setdefault("stages", {}).setdefault(stage, {})
    stage_config.setdefault("api_gateway_stage", "api")
    stage_config.update(deploy_settings(stage, **settings))
    (project / ".chalice" / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    for function in lambda_policy.LOGICAL_IDS:
        document = json.dumps(lambda_policy.document(function), indent=2) + "\n"
        (project / ".chalice" / lambda_policy.policy_file(stage, function)).write_text(document)
    return project


def run_chalice_package(project: Path, stage: str, region: str, out_dir: Path) -> Path:
    out_dir = out_dir.resolve()
    shutil.rmtree(out_dir, ignore_errors=True)
    chalice = Path(sys.executable).with_name("chalice")
    env = {**os.environ, "AWS_DEFAULT_REGION": region, "CAFE_TABLE_STREAM_ARN": PACKAGE_STREAM_ARN}
    result = subprocess.run(
        [str(chalice), "package", "--stage", stage, str(out_dir)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise PackageError(f"chalice package failed:\n{result.stdout}\n{result.stderr}")
    return out_dir


def add_bytecode(zip_path: Path) -> int:
    """Add unchecked-hash ``.pyc`` files for every module in the zip; returns how many."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp)
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(tree)
        compileall.compile_dir(
            tree,
            quiet=1,
            workers=1,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        files = sorted(p for p in tree.rglob("*") if p.is_file())
        with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in files:
                info = zipfile.ZipInfo(file.relative_to(tree).as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, file.read_bytes())
        return sum(1 for f in files if f.suffix == ".pyc")


#: checkov findings that do not apply to this function/API, with the reason (kept in the template).
CHECKOV_SKIPS: dict[str, list[tuple[str, str]]] = {
    "AWS::Logs::LogGroup": [
        (
            "CKV_AWS_158",
            "Logs hold no secrets; CloudWatch's default encryption suffices (a KMS key costs $1/month).",
        ),
    ],
    "AWS::Serverless::Api": [
        (
            "CKV_AWS_76",
            "API Gateway access logs need an account-wide CloudWatch role; the function logs "
            "every request as JSON through powertools instead.",
        ),
        ("CKV_AWS_120", "A cache costs from $0.02/hour and would serve stale order states."),
    ],
    "AWS::ApiGatewayV2::Stage": [
        (
            "CKV_AWS_95",
            "WebSocket API access logs, like REST ones, need the account-wide API Gateway "
            "CloudWatch role (an account setting outside this stack, and a role a Learner Lab "
            "cannot create); each connect, message and disconnect is a function invocation, "
            "logged by that function.",
        ),
    ],
    "AWS::Serverless::Function": [
        (
            "CKV_AWS_116",
            "Every function is invoked synchronously (API Gateway, or the stream's event source "
            "mapping, which retries a failed batch itself); a dead-letter queue only applies to "
            "asynchronous invocations.",
        ),
        (
            "CKV_AWS_117",
            "Only AWS APIs (DynamoDB and its stream, API Gateway's @connections, SSM) over "
            "IAM-authenticated HTTPS are reached; a VPC would add NAT or endpoint costs and "
            "cold-start latency without isolating anything.",
        ),
        (
            "CKV_AWS_115",
            "Reserved concurrency is the HTTP function's ReservedConcurrency parameter, off by "
            "default: Lambda keeps 100 unreserved, so accounts with a low limit (new ones, Learner "
            "Labs) cannot reserve any. The live functions stay in the shared pool too (the stream's "
            "is one environment per shard).",
        ),
        (
            "CKV_AWS_173",
            "Environment variables are encrypted at rest with the AWS managed key; a "
            "customer managed key adds cost without changing who can read them.",
        ),
    ],
}


def _subst(value: Any) -> Any:
    """Turn strings with ``${...}`` into ``Fn::Sub`` (recursively)."""
    if isinstance(value, str) and "${" in value:
        return {"Fn::Sub": value}
    if isinstance(value, list):
        return [_subst(item) for item in value]
    if isinstance(value, dict):
        return {key: _subst(item) for key, item in value.items()}
    return value


def _parameters(stage: str, *, lab: bool) -> Json:
    lab_tracing: Json = {
        TRACING_PARAMETER: {
            "Type": "String",
            "Default": "PassThrough",
            "AllowedValues": ["Active", "PassThrough"],
            "Description": "Learner Lab mode: X-Ray tracing of the functions. "
            "Active needs xray:PutTraceSegments on the lab's role (make lab-check shows it); "
            "the deploy sets Active only when the preflight saw it allowed.",
        }
    }
    return {
        **(learner_lab.role_parameter() if lab else {}),
        **(lab_tracing if lab else {}),
        "ThrottleRateLimit": {
            "Type": "Number",
            "Default": THROTTLE_RATE,
            "MinValue": 1,
            "MaxValue": 10000,
            "Description": "API Gateway stage throttling, REST and WebSocket stage alike: steady "
            "requests (WebSocket: messages and connects) per second for the whole API (above it: "
            "429, or the message is refused).",
        },
        "ThrottleBurstLimit": {
            "Type": "Number",
            "Default": THROTTLE_BURST,
            "MinValue": 1,
            "MaxValue": 5000,
            "Description": "API Gateway stage throttling of both stages: burst size (token bucket).",
        },
        "ReservedConcurrency": {
            "Type": "Number",
            "Default": 0,
            "MinValue": 0,
            "MaxValue": 1000,
            "Description": "Reserved concurrency for the HTTP function: caps it (and guarantees it) "
            "at this many environments. 0 = none, the account's shared pool (Lambda keeps 100 "
            "unreserved, so accounts with a low limit - new ones, Learner Labs - cannot reserve).",
        },
        "CodeBucket": {"Type": "String", "Description": "Bucket of the uploaded deployment.zip."},
        "CodeKey": {"Type": "String", "Description": "Key of the uploaded deployment.zip."},
        "TableName": {
            "Type": "String",
            "Default": f"cafe-{stage}",
            "Description": "The shared DynamoDB table (output of the data stack).",
        },
        "TableStreamArn": {
            "Type": "String",
            "AllowedPattern": STREAM_ARN_PATTERN,
            "Description": "The shared table's stream (the data stack's TableStreamArn output): "
            "the order book's change feed the live-push function reads.",
        },
        "ConnectionsTableName": {
            "Type": "String",
            "Default": f"cafe-{stage}-connections",
            "Description": "The WebSocket subscribers' table (output of the data stack).",
        },
        "TokenParameter": {
            "Type": "String",
            "Default": f"/cafe/{stage}/staff-token",
            "AllowedPattern": "^/[A-Za-z0-9/_.-]+$",
            "Description": "SSM SecureString holding the staff token; the functions that check it "
            "read it at cold start, so the token is in neither the template nor their settings.",
        },
    }


def _functions(template: Json) -> dict[str, str]:
    """Logical id → chalice function name, refusing a function without its own policy."""
    names = {logical_id: name for name, logical_id in lambda_policy.LOGICAL_IDS.items()}
    found = [name for name, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"]
    unknown = sorted(set(found) - set(names))
    missing = sorted(set(names) - set(found))
    if unknown or missing:
        raise PackageError(
            f"the chalice template's functions are {sorted(found)}: "
            + (f"{unknown} have no policy in infra/lambda_policy.py; " if unknown else "")
            + (f"{missing} are missing" if missing else "")
        )
    return {logical_id: names[logical_id] for logical_id in found}


def _websocket_stage(template: Json) -> str:
    stage = template["Resources"].get("WebsocketAPIStage")
    if stage is None or "WebsocketAPI" not in template["Resources"]:
        raise PackageError("the chalice template has no WebSocket API (the WEBSOCKETS feature flag)")
    name: str = stage["Properties"]["StageName"]
    return name


def _websocket_urls(stage: str) -> tuple[Json, Json]:
    """What clients connect to (wss) and where the functions post (https): one API, one stage."""
    host = "${WebsocketAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/" + stage
    return sub("wss://" + host), sub("https://" + host)


def _environment(function: str, ws_stage: str) -> Json:
    """The settings finish_template adds to a function's environment (chalice writes the rest)."""
    client_url, callback_url = _websocket_urls(ws_stage)
    variables: Json = {
        "CAFE_TABLE": ref("TableName"),
        # API Gateway's endpoints are HTTPS-only (REST ones forward X-Forwarded-Proto: https),
        # so there is no plain-HTTP staff call to allow: always "1", no AllowStaffOverHttp here.
        runtime_env.STAFF_REQUIRE_HTTPS: "1",
        # GET /live answers it (HTTP function); the live functions know their own API by it.
        "CAFE_WS_URL": client_url,
    }
    if function in lambda_policy.READS_STAFF_TOKEN:
        variables["CAFE_STAFF_TOKEN_PARAMETER"] = ref("TokenParameter")
    if function in lambda_policy.LIVE:
        variables["CAFE_WS_CALLBACK_URL"] = callback_url
        variables["CAFE_CONNECTIONS_TABLE"] = ref("ConnectionsTableName")
    return variables


#: How the stream's event source mapping treats a batch that keeps failing. Lambda's default
#: retries it until its records expire (24 h), holding every later change back that long. A live
#: update is worth little after minutes and every page resynchronises when it reconnects, so: split
#: a failing batch to find the record at fault, retry a few times, and drop changes older than
#: five minutes (the emulator's stream poller does the same: compare/local/lambda_emu).
STREAM_RETRIES: Json = {
    "BisectBatchOnFunctionError": True,
    "MaximumRetryAttempts": 5,
    "MaximumRecordAgeInSeconds": 300,
}


def _finish_function(props: Json, function: str, ws_stage: str, *, lab: bool, runtime: str | None) -> None:
    props["CodeUri"] = {"Bucket": ref("CodeBucket"), "Key": ref("CodeKey")}
    props.setdefault("Environment", {}).setdefault("Variables", {}).update(_environment(function, ws_stage))
    if function == lambda_policy.HTTP:
        props["ReservedConcurrentExecutions"] = if_(
            "HasReservedConcurrency", ref("ReservedConcurrency"), NO_VALUE
        )
    for event in props.get("Events", {}).values():
        if event["Type"] == "DynamoDB":
            # chalice package writes the ARN it was given at package time; the stream exists only
            # once the data stack does, so the deploy passes it (never a literal in the template).
            event["Properties"]["Stream"] = ref("TableStreamArn")
            event["Properties"].update(STREAM_RETRIES)
    if runtime:
        props["Runtime"] = runtime
    if lab:
        props["Role"] = learner_lab.role_arn()
        props["Tracing"] = ref(TRACING_PARAMETER)


def _finish_rest_api(props: Json, stage: str) -> None:
    # chalice's xray flag traces the function only. (API Gateway sends its own traces, with no
    # role of ours, so the stage is traced in a lab too.)
    props["TracingEnabled"] = True
    props["Name"] = f"cafe-{stage}"  # a readable API name (chalice leaves it to the body)
    props["MethodSettings"] = [
        {
            "ResourcePath": "/*",
            "HttpMethod": "*",
            "ThrottlingRateLimit": ref("ThrottleRateLimit"),
            "ThrottlingBurstLimit": ref("ThrottleBurstLimit"),
        }
    ]


def _finish_websocket_stage(props: Json) -> None:
    # Every route ($connect, $default, $disconnect) under the REST stage's limits: a flood of
    # connects or messages is refused by API Gateway before it invokes (and bills) a function.
    props["DefaultRouteSettings"] = {
        "ThrottlingRateLimit": ref("ThrottleRateLimit"),
        "ThrottlingBurstLimit": ref("ThrottleBurstLimit"),
    }


def _log_group_function(props: Json, functions: dict[str, str]) -> str:
    """The function a chalice log group belongs to. chalice 1.34 names it after "ApiHandler"
    while the function is "APIHandler", so match the logical ids without case."""
    named = props["LogGroupName"]["Fn::Sub"].removeprefix("/aws/lambda/${").removesuffix("}")
    for logical_id in functions:
        if logical_id.lower() == named.lower():
            return logical_id
    raise PackageError(f"log group /aws/lambda/{named} names no function of the template")


def _outputs(template: Json, ws_stage: str) -> None:
    endpoint = template.get("Outputs", {}).get("EndpointURL", {}).get("Value")
    if endpoint is None:
        raise PackageError("the chalice template has no EndpointURL output")
    template["Outputs"]["Url"] = {
        "Description": "base URL of the service (API Gateway stage)",
        "Value": {"Fn::Sub": endpoint["Fn::Sub"].rstrip("/")},
    }
    template["Outputs"]["WebSocketUrl"] = {
        "Description": "where clients connect for live push (GET /live answers it)",
        "Value": _websocket_urls(ws_stage)[0],
    }


def finish_template(template: Json, stage: str, *, lab: bool = False, runtime: str | None = None) -> Json:
    """Parameterise the tables, the table's stream and the staff token's parameter; make the
    policy ARNs account-independent; give each function its environment; add both stages'
    throttling, the reserved-concurrency option and the HTTPS-only staff setting."""
    template.setdefault("Parameters", {}).update(_parameters(stage, lab=lab))
    template.setdefault("Conditions", {}).update(
        {"HasReservedConcurrency": not_(equals(ref("ReservedConcurrency"), 0))}
    )
    if lab:
        for name in learner_lab.iam_resources(template):
            del template["Resources"][name]
    functions = _functions(template)
    ws_stage = _websocket_stage(template)
    for logical_id, resource in template["Resources"].items():
        kind = resource["Type"]
        props = resource.get("Properties", {})
        if kind in CHECKOV_SKIPS:
            resource.setdefault("Metadata", {}).update(checkov_skips(*CHECKOV_SKIPS[kind]))
        if kind == "AWS::Serverless::Api":
            _finish_rest_api(props, stage)
        elif kind == "AWS::ApiGatewayV2::Stage":
            _finish_websocket_stage(props)
        elif kind == "AWS::IAM::Role":
            for item in props.get("Policies", []):
                item["PolicyDocument"] = _subst(item["PolicyDocument"])
        elif kind == "AWS::Logs::LogGroup":
            props["LogGroupName"] = sub("/aws/lambda/${" + _log_group_function(props, functions) + "}")
        elif kind == "AWS::Serverless::Function":
            _finish_function(props, functions[logical_id], ws_stage, lab=lab, runtime=runtime)
    _outputs(template, ws_stage)
    return template


class _NoManagedPolicies:
    """The chalice template names no managed policies, so the translator needs no IAM lookup."""

    def load(self) -> dict[str, str]:
        return {}


def expand(sam: Json, region: str) -> Json:
    """Plain CloudFormation from the SAM template (offline; region only picks the partition)."""
    from samtranslator.translator.transform import transform  # type: ignore[import-untyped]

    previous = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = region
    try:
        expanded: Json = transform(copy.deepcopy(sam), {}, _NoManagedPolicies(), passthrough_metadata=True)
    finally:
        if previous is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
        else:
            os.environ["AWS_DEFAULT_REGION"] = previous
    return expanded


@contextlib.contextmanager
def _vendor_lock() -> Iterator[None]:
    """Serialise rebuilding chalice_app/vendor/ (parallel test workers or make jobs share it)."""
    with open(Path(tempfile.gettempdir()) / "cafe-chalice-vendor.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def package(
    stage: str,
    region: str,
    build_dir: Path,
    *,
    vendor: bool = True,
    bytecode: bool = True,
    lab: bool = False,
    runtime: str | None = None,
) -> Path:
    """Full pipeline; returns the directory with ``sam.json`` and ``deployment.zip``."""
    if runtime == interpreter_runtime():
        runtime = None  # what chalice writes anyway
    if runtime is not None:
        known = runtime_deprecation()
        if runtime not in known:
            raise PackageError(f"unknown Lambda runtime {runtime}; one of {', '.join(sorted(known))}")
        bytecode = False  # this interpreter's .pyc would be ignored by another Python minor
    warning = runtime_warning(runtime or interpreter_runtime())
    if warning:
        print(f"note: {warning}")
    out = (build_dir / "lambda" / stage).resolve()
    with _vendor_lock():
        if vendor:
            vendor_shared()
        project = stage_project(stage, out)
    package_dir = run_chalice_package(project, stage, region, out / "package")
    zip_path = package_dir / "deployment.zip"
    if bytecode:
        print(f"added {add_bytecode(zip_path)} .pyc files to {zip_path}")
    sam_path = package_dir / "sam.json"
    sam = finish_template(json.loads(sam_path.read_text(encoding="utf-8")), stage, lab=lab, runtime=runtime)
    sam_path.write_text(json.dumps(sam, indent=2) + "\n", encoding="utf-8")
    template_path = package_dir / "template.json"
    template_path.write_text(json.dumps(expand(sam, region), indent=2) + "\n", encoding="utf-8")
    return package_dir


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--build", type=Path, default=Path("build"))
    parser.add_argument("--vendor-only", action="store_true", help="only rebuild chalice_app/vendor")
    parser.add_argument("--lab", action="store_true", help="Learner Lab mode: no IAM role (LabRole)")
    parser.add_argument("--runtime", help="Lambda runtime (default: this Python's, e.g. python3.11)")
    args = parser.parse_args(argv)
    if args.vendor_only:
        with _vendor_lock():
            print(vendor_shared())
        return
    print(package(args.stage, args.region, args.build, lab=args.lab, runtime=args.runtime or None))


if __name__ == "__main__":
    main()

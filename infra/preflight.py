"""``make lab-check``: what this session may do, probed without creating anything that costs money.

Every probe is a read, a dry run, or a create call made invalid on purpose — AWS checks
permissions before it validates the input, so AccessDenied means "refused" and a validation error
means "allowed" — and each answers **allowed**, **refused** or **unknown** (could not tell: the
policy simulator is itself refused, or the answer was something else). The report is one table
with, for each refusal, what it means for which ``make`` target. Every deploy in Learner Lab mode
runs the same probes first and stops on a refusal that breaks it (``infra.deploy``).

The probes, in order:

- ``sts get-caller-identity``, and when the credentials carry one, their expiry;
- (lab mode) ``LabRole`` and ``LabInstanceProfile``, and whom the role trusts (Lambda, ECS tasks,
  EC2);
- the service-linked roles the stacks need (:mod:`infra.service_roles`);
- ``iam simulate-principal-policy`` for the actions the stacks need, as the caller's role, and
  (lab mode) for what the runtimes do as ``LabRole`` — X-Ray writes decide the Lambda tracing,
  the table stream's reads whether Lambda's event source mapping can be created;
- the AL2023 AMI lookup (SSM parameter, then ``ec2 describe-images``);
- ``ec2 run-instances --dry-run`` with the real instance type, AMI, subnet and instance profile;
- AccessDenied-versus-validation probes for load balancers, Auto Scaling groups and ECS scalable
  targets, and a read of ACM (a certificate for HTTPS).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from infra import ami, credentials, lab, network, policy, service_roles
from infra.templates import ec2 as ec2_template

ALLOWED: Final = "allowed"
REFUSED: Final = "refused"
UNKNOWN: Final = "unknown"
DENIED_CODES: Final = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess"}
)
#: A probe whose name would be refused as invalid, so nothing is ever created by it.
PROBE_NAME: Final = "cafe-preflight-probe"
NO_SUBNET: Final = "subnet-00000000000000000"
NO_LAUNCH_TEMPLATE: Final = "lt-00000000000000000"
#: What a call that could not give an answer raises (an endpoint without the API answers with
#: something botocore cannot parse).
NO_ANSWER: Final = (ClientError, BotoCoreError, ResponseParserError)
#: Credentials that end sooner than this are too short for a deploy (Fargate's take ~10 minutes).
MIN_REMAINING_MINUTES: Final = 20

DATA, LAMBDA, FARGATE, EC2 = "deploy-data", "deploy-lambda", "deploy-fargate", "deploy-ec2"
SCALE_OUT, WAF, CERTIFICATE, SPOT = "EC2_MODE=scale-out", "WafRateLimit", "CERTIFICATE_ARN", "UseSpot"
RUNTIMES: Final = (LAMBDA, FARGATE, EC2)

#: What each deploy asks AWS for as the caller (CloudFormation acts with the caller's permissions).
CALLER_ACTIONS: Final = {
    DATA: (
        "cloudformation:CreateStack",
        "dynamodb:CreateTable",
        "s3:CreateBucket",
        "s3:PutObject",
        "ssm:PutParameter",
    ),
    LAMBDA: (
        "lambda:CreateFunction",
        "lambda:CreateEventSourceMapping",
        "apigateway:POST",
        "logs:CreateLogGroup",
        "iam:PassRole",
    ),
    FARGATE: (
        "ecr:CreateRepository",
        "ecs:CreateCluster",
        "ecs:RegisterTaskDefinition",
        "ecs:CreateService",
        "elasticloadbalancing:CreateLoadBalancer",
        "application-autoscaling:RegisterScalableTarget",
        "iam:PassRole",
    ),
    EC2: ("ec2:RunInstances", "ec2:CreateLaunchTemplate", "ec2:CreateSecurityGroup", "iam:PassRole"),
    SCALE_OUT: ("autoscaling:CreateAutoScalingGroup", "elasticloadbalancing:CreateLoadBalancer"),
    WAF: ("wafv2:CreateWebACL", "wafv2:AssociateWebACL"),
}
#: What the runtimes do as LabRole (lab mode): the table, the staff token, logs, the image.
LAB_ROLE_ACTIONS: Final = (
    "dynamodb:PutItem",
    "dynamodb:Query",
    "ssm:GetParameter",
    "logs:PutLogEvents",
    "ecr:BatchGetImage",
    "s3:GetObject",
)
XRAY_ACTIONS: Final = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
#: Lambda's live push as LabRole: the stream's event source mapping reads the table's stream with
#: the function's role (Lambda checks it when CloudFormation creates the mapping, so a refusal
#: rolls the stack back), and the functions post to the WebSocket clients.
STREAM_ACTIONS: Final = policy.STREAM_READ_ACTIONS
PUSH_ACTIONS: Final = ("execute-api:ManageConnections",)
#: Whom LabRole must trust, and who breaks otherwise.
TRUSTS: Final = {"lambda.amazonaws.com": LAMBDA, "ecs-tasks.amazonaws.com": FARGATE}


@dataclass(frozen=True)
class Finding:
    key: str  # stable id, e.g. "probe:elb" (what the deploy looks up)
    check: str  # what was probed, for people
    status: str  # allowed / refused / unknown
    detail: str
    targets: tuple[str, ...] = ()  # the make targets (or options) a refusal breaks
    meaning: str = ""  # what a refusal means for them
    #: False: a refusal only rules out an option or degrades something; the deploy goes on.
    blocking: bool = True


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    identity: credentials.Identity | None = None

    def add(self, finding: Finding) -> Finding:
        self.findings.append(finding)
        return finding

    def status(self, key: str) -> str:
        """The finding's status; ``unknown`` when it was not probed."""
        return next((f.status for f in self.findings if f.key == key), UNKNOWN)

    def statuses(self) -> dict[str, str]:
        return {f.key: f.status for f in self.findings}

    def blocking(self, target: str) -> list[Finding]:
        """Refusals that stop ``target`` (a make target such as ``deploy-ec2``)."""
        return [f for f in self.findings if f.status == REFUSED and f.blocking and target in f.targets]

    def table(self) -> str:
        rows = [("status", "check", "detail")] + [(f.status, f.check, f.detail) for f in self.findings]
        widths = [max(len(row[i]) for row in rows) for i in range(2)]
        lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}" for a, b, c in rows]
        lines.insert(1, "-" * min(100, max(len(line) for line in lines)))
        refusals = [f for f in self.findings if f.status == REFUSED]
        if refusals:
            lines.append("")
            lines.append("what the refusals mean:")
            for f in refusals:
                where = ", ".join(f"make {t}" if t.startswith("deploy-") else t for t in f.targets)
                lines.append(f"- {f.check}: {f.meaning or f.detail}" + (f" [{where}]" if where else ""))
        counts = {s: sum(f.status == s for f in self.findings) for s in (ALLOWED, REFUSED, UNKNOWN)}
        lines.append("")
        lines.append(", ".join(f"{n} {s}" for s, n in counts.items()))
        return "\n".join(lines)


Clients = Callable[[str], Any]


def _code(error: ClientError) -> str:
    code: str = error.response.get("Error", {}).get("Code", "")
    return code


def _denied(error: ClientError) -> bool:
    return _code(error) in DENIED_CODES


# -- identity and the lab's role ------------------------------------------------------------------


def probe_identity(report: Report, session: Any, sts: Any, *, lab_mode: bool) -> credentials.Identity:
    """Raises :class:`credentials.CredentialsError` when there is no usable session at all."""
    who = credentials.identity(session, sts)
    report.identity = who
    kind = "an AWS Academy Learner Lab session" if who.is_lab_session else "not a Learner Lab session"
    report.add(Finding("identity", "sts get-caller-identity", ALLOWED, f"{who.arn} ({kind})"))
    if who.expires is None:
        detail = "not in the credentials (a lab's end with the session: copy fresh ones after each start)"
        report.add(Finding("expiry", "credentials expiry", UNKNOWN, detail))
    else:
        minutes = int((who.expires - datetime.now(UTC)).total_seconds() // 60)
        short = minutes < MIN_REMAINING_MINUTES
        report.add(
            Finding(
                "expiry",
                "credentials expiry",
                REFUSED if short else ALLOWED,
                f"expire at {who.expires.isoformat(timespec='minutes')} (in {minutes} min)",
                (DATA, *RUNTIMES),
                f"less than {MIN_REMAINING_MINUTES} minutes left: a deploy would be cut off halfway; "
                "refresh the credentials first",
            )
        )
    if who.is_lab_session and not lab_mode:
        report.add(
            Finding(
                "mode",
                "LAB=1 with lab credentials",
                REFUSED,
                "Learner Lab credentials without LAB=1",
                (DATA, *RUNTIMES),
                "the normal stacks create IAM roles, which a lab refuses: add LAB=1 to every target",
            )
        )
    return who


def _trusted_services(document: Any) -> set[str]:
    services: set[str] = set()
    for statement in document.get("Statement", []) if isinstance(document, dict) else []:
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal", {})
        found = principal.get("Service", []) if isinstance(principal, dict) else []
        services |= {found} if isinstance(found, str) else set(found)
    return services


def _not_found(key: str, what: str, error: ClientError, targets: tuple[str, ...], advice: str) -> Finding:
    """A lab resource that could not be read: refused when it does not exist, unknown otherwise."""
    missing = _code(error) == "NoSuchEntity"
    detail = "does not exist" if missing else f"cannot read it ({_code(error)})"
    return Finding(key, what, REFUSED if missing else UNKNOWN, detail, targets, advice)


def probe_lab_role(report: Report, iam: Any, role_name: str = lab.LAB_ROLE) -> None:
    try:
        role = iam.get_role(RoleName=role_name)["Role"]
    except ClientError as error:
        advice = (
            f"the function and the tasks run as {role_name}: name the lab's role with PARAMS=LabRoleName=..."
        )
        report.add(_not_found("lab-role", f"IAM role {role_name}", error, (LAMBDA, FARGATE), advice))
        return
    report.add(Finding("lab-role", f"IAM role {role_name}", ALLOWED, role["Arn"]))
    trusted = _trusted_services(role.get("AssumeRolePolicyDocument", {}))
    for service, target in TRUSTS.items():
        ok = service in trusted
        report.add(
            Finding(
                f"lab-role-trust:{service}",
                f"{role_name} trusts {service}",
                ALLOWED if ok else REFUSED,
                "in its trust policy" if ok else f"trusts only {', '.join(sorted(trusted)) or 'nobody'}",
                (target,),
                f"{service} cannot assume {role_name}, so make {target} would fail",
            )
        )


def probe_instance_profile(report: Report, iam: Any, name: str = lab.LAB_INSTANCE_PROFILE) -> None:
    try:
        profile = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    except ClientError as error:
        advice = "EC2 instances run with it: name the lab's profile with PARAMS=LabInstanceProfileName=..."
        report.add(_not_found("lab-instance-profile", f"instance profile {name}", error, (EC2,), advice))
        return
    roles = profile.get("Roles", [])
    ec2_trusted = any(
        "ec2.amazonaws.com" in _trusted_services(r.get("AssumeRolePolicyDocument", {})) for r in roles
    )
    report.add(
        Finding(
            "lab-instance-profile",
            f"instance profile {name}",
            ALLOWED if roles and ec2_trusted else REFUSED,
            f"role {roles[0]['RoleName']}" + ("" if ec2_trusted else " (does not trust ec2.amazonaws.com)")
            if roles
            else "holds no role",
            (EC2,),
            "the instances would get no usable credentials: the user data cannot read the bundle",
        )
    )


# -- service-linked roles --------------------------------------------------------------------------


def probe_service_roles(report: Report, iam: Any, *, lab_mode: bool) -> None:
    create = report.status("sim:slr")
    for role in service_roles.ALL:
        key = f"slr:{role.service}"
        targets = service_roles.TARGETS[role.service]
        options_only = all(not t.startswith("deploy-") or " " in t for t in targets)
        try:
            present = service_roles.has_role(iam, role)
        except ClientError as error:
            report.add(Finding(key, role.name, UNKNOWN, f"cannot list roles ({_code(error)})", targets))
            continue
        if present:
            report.add(Finding(key, role.name, ALLOWED, "exists", targets))
            continue
        if not lab_mode:
            detail, status = "missing; the deploy creates it (iam:CreateServiceLinkedRole)", create
        elif role == service_roles.ECS:
            detail, status = "missing; a lab deploy does not create IAM roles", REFUSED
        else:
            detail = "missing; AWS creates it on first use if iam:CreateServiceLinkedRole is allowed"
            status = create
        report.add(
            Finding(
                key,
                role.name,
                status,
                detail,
                targets,
                f"{role.needed_for} cannot be created and the stack rolls back: open that "
                "service's console once (it creates the role) or ask the lab's administrator",
                blocking=not options_only,
            )
        )


# -- the policy simulator --------------------------------------------------------------------------


def _simulate(iam: Any, principal: str, actions: Iterable[str]) -> dict[str, str]:
    """action → allowed / refused; raises ClientError/BotoCoreError when the simulator cannot run."""
    names = sorted(set(actions))
    answer = iam.simulate_principal_policy(PolicySourceArn=principal, ActionNames=names)
    results: dict[str, str] = {}
    for result in answer.get("EvaluationResults", []):
        decision = result.get("EvalDecision", "")
        results[result["EvalActionName"]] = ALLOWED if decision == "allowed" else REFUSED
    return results


def probe_simulator(
    report: Report, iam: Any, who: credentials.Identity, *, lab_mode: bool, role_name: str = lab.LAB_ROLE
) -> None:
    principal = who.role_arn
    groups = {**CALLER_ACTIONS, "slr": ("iam:CreateServiceLinkedRole",)}
    if not lab_mode:
        groups[LAMBDA] = (*groups[LAMBDA], "iam:CreateRole")
    try:
        if principal is None:
            raise ValueError(f"{who.arn} is not a user or a role")
        decided = _simulate(iam, principal, (a for actions in groups.values() for a in actions))
    except (*NO_ANSWER, ValueError) as error:
        reason = _code(error) if isinstance(error, ClientError) else type(error).__name__
        report.add(_simulator_unavailable("sim", "(this session)", reason))
    else:
        for group, actions in groups.items():
            refused = [a for a in actions if decided.get(a) == REFUSED]
            if refused:
                status, detail = REFUSED, "denied: " + ", ".join(refused)
            else:
                status, detail = ALLOWED, ", ".join(actions)
            option = group in (SCALE_OUT, WAF, "slr")
            label = "iam:CreateServiceLinkedRole" if group == "slr" else f"simulated actions for {group}"
            targets = ("service-linked roles",) if group == "slr" else (group,)
            meaning = (
                "missing service-linked roles cannot be created (see their rows)"
                if group == "slr"
                else f"CloudFormation would fail at the first resource needing {', '.join(refused)}"
            )
            report.add(Finding(f"sim:{group}", label, status, detail, targets, meaning, blocking=not option))
    if lab_mode:
        _simulate_lab_role(report, iam, who, role_name)


def _simulate_lab_role(report: Report, iam: Any, who: credentials.Identity, role_name: str) -> None:
    partition = who.arn.split(":", 2)[1]
    role_arn = f"arn:{partition}:iam::{who.account}:role/{role_name}"
    try:
        decided = _simulate(iam, role_arn, (*LAB_ROLE_ACTIONS, *XRAY_ACTIONS, *STREAM_ACTIONS, *PUSH_ACTIONS))
    except NO_ANSWER as error:
        reason = _code(error) if isinstance(error, ClientError) else type(error).__name__
        report.add(_simulator_unavailable("sim:lab-role", f"for {role_name}", reason))
        return
    for key, label, actions, targets, meaning, blocking in (
        (
            "sim:lab-role",
            f"{role_name} runtime actions",
            LAB_ROLE_ACTIONS,
            RUNTIMES,
            "the deployed runtimes could not read or write the table, the token, logs or the image",
            True,
        ),
        (
            "sim:xray",
            f"{role_name} X-Ray writes",
            XRAY_ACTIONS,
            (LAMBDA,),
            "Lambda refuses active tracing for a role without X-Ray writes: make deploy-lambda "
            "deploys with LambdaTracing=PassThrough (untraced)",
            False,
        ),
        (
            "sim:lab-role-stream",
            f"{role_name} stream reads",
            STREAM_ACTIONS,
            (LAMBDA,),
            "Lambda cannot create the order book stream's event source mapping for this role: "
            "the Lambda stack rolls back",
            True,
        ),
        (
            "sim:lab-role-push",
            f"{role_name} WebSocket posts",
            PUSH_ACTIONS,
            (LAMBDA,),
            "the Lambda functions cannot post to WebSocket clients: live push on Lambda stays "
            "silent (the pages fall back to polling)",
            False,
        ),
    ):
        refused = [a for a in actions if decided.get(a) == REFUSED]
        if refused:
            status, detail = REFUSED, "denied: " + ", ".join(refused)
        else:
            status, detail = ALLOWED, ", ".join(actions)
        report.add(Finding(key, label, status, detail, targets, meaning, blocking=blocking))


def _simulator_unavailable(key: str, whom: str, reason: str) -> Finding:
    """One row for every simulated check when the simulator cannot answer (their keys stay
    unknown: options that depend on them are warned about, not refused)."""
    return Finding(
        key,
        f"iam simulate-principal-policy {whom}",
        UNKNOWN,
        f"the policy simulator is not available ({reason})",
    )


# -- EC2: the AMI and a dry-run launch -------------------------------------------------------------


def probe_ami(report: Report, ssm: Any, ec2: Any, architecture: str) -> str | None:
    """Both lookups; returns the AMI the deploy would use (None when neither works)."""
    found: str | None = None
    path = ami.SSM_PATH[architecture]
    try:
        found = ami.from_ssm(ssm, architecture)
        report.add(Finding("ami:ssm", "AMI from the SSM parameter", ALLOWED, f"{found} ({path})"))
    except ClientError as error:
        report.add(
            Finding(
                "ami:ssm",
                "AMI from the SSM parameter",
                REFUSED if _denied(error) else UNKNOWN,
                f"{path}: {_code(error)}",
                (EC2,),
                "the deploy falls back to ec2 describe-images (no action needed)",
                blocking=False,
            )
        )
    try:
        newest = ami.from_images(ec2, architecture)
        report.add(Finding("ami:images", "AMI from ec2 describe-images", ALLOWED, newest))
        found = found or newest
    except (ClientError, ami.AmiLookupError) as error:
        denied = isinstance(error, ClientError) and _denied(error)
        report.add(
            Finding(
                "ami:images",
                "AMI from ec2 describe-images",
                REFUSED if denied else UNKNOWN,
                _code(error) if isinstance(error, ClientError) else str(error),
                (EC2,),
                "the deploy checks the AMI's architecture with describe-images: give AMI_ID=ami-... "
                "and expect the check to fail too",
            )
        )
    return found


def probe_run_instances(
    report: Report, ec2: Any, *, image_id: str | None, instance_type: str, profile: str | None
) -> None:
    check = f"ec2 run-instances --dry-run ({instance_type})"
    if image_id is None:
        report.add(Finding("ec2:dry-run", check, UNKNOWN, "no AMI to try with", (EC2,)))
        return
    try:
        net = network.resolve(ec2)
        subnet = network.subnet_offering(ec2, net.subnet_ids, instance_type)
    except (ClientError, network.NoDefaultVpcError, network.NoZoneOffersTypeError) as error:
        detail = _code(error) if isinstance(error, ClientError) else str(error)
        report.add(Finding("ec2:dry-run", check, UNKNOWN, f"no subnet to try with: {detail}", (EC2,)))
        return
    arguments: dict[str, Any] = {
        "ImageId": image_id,
        "InstanceType": instance_type,
        "MinCount": 1,
        "MaxCount": 1,
        "SubnetId": subnet,
        "DryRun": True,
    }
    if profile:
        arguments["IamInstanceProfile"] = {"Name": profile}
    try:
        ec2.run_instances(**arguments)
    except ClientError as error:
        code = _code(error)
        if code == "DryRunOperation":
            status, detail = ALLOWED, f"{image_id} in {subnet}" + (f" as {profile}" if profile else "")
        else:
            status, detail = (REFUSED if _denied(error) else UNKNOWN), f"{code}: {error}"[:160]
        report.add(
            Finding(
                "ec2:dry-run",
                check,
                status,
                detail,
                (EC2,),
                f"the lab does not let this session launch {instance_type}"
                + (f" with {profile}" if profile else "")
                + ": try INSTANCE_TYPE=t3.small or t3.micro",
            )
        )
        return
    # A dry run never launches; an endpoint that ignores DryRun did.
    report.add(Finding("ec2:dry-run", check, UNKNOWN, "the endpoint ignored DryRun", (EC2,)))


# -- AccessDenied versus validation -------------------------------------------------------------


def _authorisation(call: Callable[[], Any], undo: Callable[[Any], Any] | None = None) -> tuple[str, str]:
    """Run a create call made invalid on purpose: AccessDenied → refused, any other error →
    allowed (AWS authorised it before refusing the input); success → allowed, undone at once."""
    try:
        result = call()
    except ClientError as error:
        if _denied(error):
            return REFUSED, _code(error)
        return ALLOWED, f"authorised (then {_code(error)}, as intended)"
    except (BotoCoreError, ResponseParserError) as error:
        return UNKNOWN, type(error).__name__
    if undo is not None:
        undo(result)
    return ALLOWED, "authorised (the probe was accepted and removed again)"


def probe_load_balancers(report: Report, elbv2: Any) -> None:
    status, detail = _authorisation(
        lambda: elbv2.create_load_balancer(Name=f"{PROBE_NAME}!", Subnets=[NO_SUBNET]),
        lambda made: elbv2.delete_load_balancer(LoadBalancerArn=made["LoadBalancers"][0]["LoadBalancerArn"]),
    )
    report.add(
        Finding(
            "probe:elb",
            "elasticloadbalancing:CreateLoadBalancer",
            status,
            detail,
            (FARGATE, SCALE_OUT),
            "no load balancer: make deploy-fargate and EC2 scale-out cannot work here; use "
            "make deploy-ec2 (single instance) and make deploy-lambda",
        )
    )


def probe_auto_scaling(report: Report, autoscaling: Any) -> None:
    status, detail = _authorisation(
        lambda: autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=PROBE_NAME,
            MinSize=0,
            MaxSize=0,
            LaunchTemplate={"LaunchTemplateId": NO_LAUNCH_TEMPLATE},
        ),
        lambda _: autoscaling.delete_auto_scaling_group(AutoScalingGroupName=PROBE_NAME, ForceDelete=True),
    )
    report.add(
        Finding(
            "probe:autoscaling",
            "autoscaling:CreateAutoScalingGroup",
            status,
            detail,
            (SCALE_OUT,),
            "EC2_MODE=scale-out is refused in this lab: deploy EC2 as a single instance",
            blocking=False,
        )
    )


def probe_scalable_targets(report: Report, scaling: Any) -> None:
    resource = f"service/{PROBE_NAME}/{PROBE_NAME}"
    dimension = "ecs:service:DesiredCount"
    status, detail = _authorisation(
        lambda: scaling.register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId=resource,
            ScalableDimension=dimension,
            MinCapacity=0,
            MaxCapacity=0,
        ),
        lambda _: scaling.deregister_scalable_target(
            ServiceNamespace="ecs", ResourceId=resource, ScalableDimension=dimension
        ),
    )
    report.add(
        Finding(
            "probe:scalable-target",
            "application-autoscaling:RegisterScalableTarget",
            status,
            detail,
            (FARGATE,),
            "the Fargate service's autoscaling target cannot be created: the Fargate stack rolls back",
        )
    )


def probe_certificates(report: Report, acm: Any) -> None:
    try:
        listing = acm.list_certificates(CertificateStatuses=["ISSUED"])
    except ClientError as error:
        status, detail = (REFUSED if _denied(error) else UNKNOWN), _code(error)
    except (BotoCoreError, ResponseParserError) as error:
        status, detail = UNKNOWN, type(error).__name__
    else:
        count = len(listing.get("CertificateSummaryList", []))
        status, detail = ALLOWED, f"{count} issued certificate(s) in this region"
    report.add(
        Finding(
            "probe:acm",
            "acm:ListCertificates",
            status,
            detail,
            (CERTIFICATE,),
            "no ACM certificate can be used here: staff pages need AllowStaffOverHttp=true "
            "(a throwaway lab deploy only) instead of HTTPS",
            blocking=False,
        )
    )


def note_spot(report: Report) -> None:
    report.add(
        Finding(
            "spot",
            "Fargate Spot capacity",
            UNKNOWN,
            "no probe can tell before a task runs; if tasks stay PENDING, redeploy with UseSpot=false",
            (SPOT,),
            blocking=False,
        )
    )


# -- everything ----------------------------------------------------------------------------------


def run(
    session: Any,
    clients: Clients,
    *,
    lab_mode: bool,
    instance_type: str = ec2_template.DEFAULT_INSTANCE_TYPE,
    role_name: str = lab.LAB_ROLE,
    profile_name: str = lab.LAB_INSTANCE_PROFILE,
) -> Report:
    """Every probe; raises :class:`credentials.CredentialsError` only when there is no session."""
    report = Report()
    who = probe_identity(report, session, clients("sts"), lab_mode=lab_mode)
    iam = clients("iam")
    if lab_mode:
        probe_lab_role(report, iam, role_name)
        probe_instance_profile(report, iam, profile_name)
    probe_simulator(report, iam, who, lab_mode=lab_mode, role_name=role_name)
    probe_service_roles(report, iam, lab_mode=lab_mode)
    try:
        architecture = ec2_template.architecture_of(instance_type)
    except KeyError:
        architecture = "arm64"
    image_id = probe_ami(report, clients("ssm"), clients("ec2"), architecture)
    probe_run_instances(
        report,
        clients("ec2"),
        image_id=image_id,
        instance_type=instance_type,
        profile=profile_name if lab_mode else None,
    )
    probe_load_balancers(report, clients("elbv2"))
    probe_auto_scaling(report, clients("autoscaling"))
    probe_scalable_targets(report, clients("application-autoscaling"))
    probe_certificates(report, clients("acm"))
    note_spot(report)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.preflight", description=__doc__.splitlines()[0])
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or "us-east-1")
    parser.add_argument("--lab", action="store_true", help="AWS Academy Learner Lab mode (LAB=1)")
    parser.add_argument("--instance-type", default=ec2_template.DEFAULT_INSTANCE_TYPE)
    args = parser.parse_args(argv)
    if args.lab:
        lab.check(args.region, args.instance_type)
    session = boto3.session.Session(region_name=args.region)
    cache: dict[str, Any] = {}

    def clients(service: str) -> Any:
        if service not in cache:
            cache[service] = session.client(service)
        return cache[service]

    report = run(session, clients, lab_mode=args.lab, instance_type=args.instance_type)
    print(f"preflight ({args.region}{', Learner Lab mode' if args.lab else ''}):")
    print(report.table())
    stopped = sorted({t for f in report.findings if f.status == REFUSED and f.blocking for t in f.targets})
    if stopped:
        print(f"\nrefused for: {', '.join(stopped)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except lab.LabLimitError as error:
        raise SystemExit(f"lab-check: Learner Lab mode: {error}") from None
    except Exception as error:
        message = credentials.explain(error)
        if message is None:
            raise
        raise SystemExit(f"lab-check: {message}") from None

"""``python -m infra.deploy <data|lambda|fargate|ec2> [--destroy]`` — what the make targets run.

Each deploy is: ask STS whose credentials these are (a plain message when there are none or they
expired; Learner Lab credentials need ``--lab``) → check what can be checked without changing
anything (task size, instance type vs AMI architecture, the image builder's platform, Learner Lab
limits and the session's preflight with ``--lab``) → resolve
inputs (data-stack outputs, default VPC, staff token, the AMI) → upload artifacts →
create-or-update the stack → save its outputs to ``build/outputs/<runtime>-<stage>.json`` and print
the URL. Only boto3 talks to AWS, so ``AWS_ENDPOINT_URL`` (honoured by boto3 itself) is all the
tests change to run these exact commands against moto.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from infra import (
    ami,
    bake,
    bundle,
    credentials,
    image,
    lab,
    network,
    outputs,
    preflight,
    service_roles,
    stack,
    staff_token,
)
from infra.lambda_package import TRACING_PARAMETER as TRACING
from infra.lambda_package import package as package_lambda
from infra.templates import data, ec2, fargate

ROOT = Path(__file__).resolve().parents[1]
BUILD = Path(os.environ.get("CAFE_BUILD_DIR", ROOT / "build"))


#: The stacks that use the data stack's table.
RUNTIMES = ("lambda", "fargate", "ec2")


class DeployError(RuntimeError):
    """A precondition for a deploy is missing (e.g. the data stack)."""


def stack_name(kind: str, stage: str) -> str:
    return f"cafe-{kind}-{stage}"


def _tags(stage: str) -> dict[str, str]:
    return {"project": "cafe-compute", "stage": stage}


def _parse_params(items: Sequence[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise DeployError(f"--param needs Key=Value, got {item!r}")
        params[key] = value
    return params


class Deployer:
    """One region and stage; creates boto3 clients lazily (they pick up AWS_ENDPOINT_URL).

    ``lab=True`` is Learner Lab mode: the region is checked against the lab's, templates create
    no IAM resource and use the lab's role and instance profile instead, and every deploy starts
    with the session's preflight (:mod:`infra.preflight`): a refusal that breaks it stops it
    before anything changes, and options the lab refuses (scale-out, WAF, a certificate, Spot)
    are refused or warned about.
    """

    def __init__(self, stage: str, region: str, *, lab: bool = False) -> None:
        self.stage = stage
        self.region = region
        self.lab = lab
        if lab:
            _lab_check(region)
        self.session = boto3.session.Session(region_name=region)
        self._clients: dict[str, Any] = {}
        self.report: preflight.Report | None = None

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service)
        return self._clients[service]

    # -- shared ---------------------------------------------------------------------------

    def whoami(self) -> credentials.Identity:
        """Who these credentials are (a clear message when there are none or they expired);
        Learner Lab credentials need ``--lab``."""
        who = credentials.identity(self.session, self.client("sts"))
        credentials.check_mode(who, lab=self.lab)
        return who

    def lab_preflight(
        self, target: str, *, instance_type: str | None = None, params: dict[str, str] | None = None
    ) -> None:
        """Lab mode: the preflight table, then stop on a refusal that breaks ``target`` or an
        option the lab refuses; warn about options it could not confirm."""
        if not self.lab:
            return
        self.report = preflight.run(
            self.session,
            self.client,
            lab_mode=True,
            instance_type=instance_type or ec2.DEFAULT_INSTANCE_TYPE,
            role_name=(params or {}).get(lab.ROLE_PARAMETER, lab.LAB_ROLE),
            profile_name=(params or {}).get(lab.PROFILE_PARAMETER, lab.LAB_INSTANCE_PROFILE),
        )
        print(f"Learner Lab preflight for make {target}:\n{self.report.table()}\n")
        stopping = self.report.blocking(target)
        if stopping:
            reasons = "; ".join(f"{f.check}: {f.meaning or f.detail}" for f in stopping)
            raise DeployError(
                f"Learner Lab mode: this lab refuses what make {target} needs ({reasons}). "
                "No stack was changed."
            )
        try:
            warnings = lab.check_options(lab.requested_options(params or {}), self.report.statuses())
        except lab.LabLimitError as error:
            raise DeployError(f"Learner Lab mode: {error}. No stack was changed.") from None
        for warning in warnings:
            print(f"warning: {warning}")

    def _service_roles(self, roles: tuple[service_roles.ServiceRole, ...]) -> None:
        """Ensure each service-linked role (create the missing ones), or in lab mode check them:
        ECS's must exist; AWS creates the others on first use unless the preflight saw that
        refused."""
        iam = self.client("iam")
        if not self.lab:
            service_roles.ensure_all(iam, roles)
            return
        for role in roles:
            try:
                service_roles.ensure(iam, role, may_create=False)
            except service_roles.ServiceRoleError:
                verdict = self.report.status(f"slr:{role.service}") if self.report else preflight.UNKNOWN
                if role == service_roles.ECS or verdict == preflight.REFUSED:
                    raise
                print(
                    f"warning: {role.name} does not exist; AWS creates it when {role.needed_for} is "
                    "first created, if this lab allows iam:CreateServiceLinkedRole (unknown here). If "
                    "the stack rolls back on it, open that service's console once and deploy again."
                )

    @staticmethod
    def _staff_https_note(kind: str, params: dict[str, str], url: str) -> None:
        """Say how to run the barista page: staff calls need HTTPS (CAFE_STAFF_REQUIRE_HTTPS)."""
        if params.get("CertificateArn"):
            return
        if params.get("AllowStaffOverHttp") == "true":
            print(
                "warning: AllowStaffOverHttp=true — the barista page works over plain HTTP and the "
                "staff token crosses the internet in clear. Use this only for a throwaway lab deploy "
                "and destroy it afterwards."
            )
            return
        https = (
            "deploy with CERTIFICATE_ARN=arn:aws:acm:... (an ACM certificate for a domain you point at "
            + (
                "the load balancer)"
                if kind == "fargate"
                else "the load balancer; EC2 needs EC2_MODE=scale-out for it)"
            )
        )
        print(
            f"note: the customer pages work at {url}, but the barista (staff) page does not: staff "
            "calls carry the staff token and this stack refuses them over plain HTTP. To use it, "
            f"{https}, or — in a throwaway lab deploy only — add PARAMS=AllowStaffOverHttp=true "
            "(the staff token then crosses the internet in clear)."
        )

    def data_outputs(self) -> dict[str, str]:
        name = stack_name("data", self.stage)
        if stack.stack_status(self.client("cloudformation"), name) is None:
            raise DeployError(f"stack {name} does not exist: run make deploy-data STAGE={self.stage} first")
        return stack.stack_outputs(self.client("cloudformation"), name)

    def _deploy(
        self, kind: str, template: dict[str, Any], params: dict[str, str], bucket: str | None = None
    ) -> dict[str, str]:
        name = stack_name(kind, self.stage)
        result = stack.deploy_stack(
            self.client("cloudformation"),
            name,
            template,
            params,
            tags=_tags(self.stage),
            s3=self.client("s3"),
            bucket=bucket,
        )
        path = outputs.save(kind, self.stage, self.region, name, result)
        print(f"{kind} ({self.stage}, {self.region}): {result.get('Url', '')}  [outputs: {path}]")
        return result

    def destroy(self, kind: str) -> None:
        if kind == "data":
            self._refuse_while_used()
            self._empty_artifacts()
        stack.delete_stack(self.client("cloudformation"), stack_name(kind, self.stage))
        if kind == "data":
            staff_token.delete_staff_token(self.client("ssm"), self.stage)
        outputs.forget(kind, self.stage)

    # -- data -----------------------------------------------------------------------------

    def _refuse_while_used(self) -> None:
        """The table must outlive every runtime stack using it (their instances, tasks and
        function would otherwise keep running, and billing, against a table that is gone)."""
        cfn = self.client("cloudformation")
        users = [
            kind for kind in RUNTIMES if stack.stack_status(cfn, stack_name(kind, self.stage)) is not None
        ]
        if users:
            first = " ".join(f"destroy-{kind}" for kind in users)
            raise DeployError(
                f"{', '.join(stack_name(kind, self.stage) for kind in users)} still use the table of "
                f"{stack_name('data', self.stage)}: destroy them first (make {first} STAGE={self.stage}), "
                "then make destroy-data. Nothing was deleted."
            )

    def deploy_data(self, deletion_protection: str = "true") -> dict[str, str]:
        self.lab_preflight("deploy-data")
        staff_token.ensure_staff_token(self.client("ssm"), self.stage)
        params = {"Stage": self.stage, "DeletionProtection": deletion_protection}
        return self._deploy("data", data.template(), params)

    def _empty_artifacts(self) -> None:
        cfn = self.client("cloudformation")
        name = stack_name("data", self.stage)
        if stack.stack_status(cfn, name) is None:
            return
        bucket = stack.stack_outputs(cfn, name).get("ArtifactBucket")
        if not bucket:
            return
        s3 = self.client("s3")
        paginator = s3.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=bucket):
            doomed = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if doomed:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})

    # -- lambda ---------------------------------------------------------------------------

    def deploy_lambda(
        self, package_dir: Path | None = None, params: dict[str, str] | None = None
    ) -> dict[str, str]:
        params = dict(params or {})
        self.lab_preflight("deploy-lambda", params=params)
        shared = self.data_outputs()
        if package_dir is None:
            package_dir = package_lambda(self.stage, self.region, BUILD, lab=self.lab)
        # The expanded template (plain CloudFormation, see infra.lambda_package.expand).
        template = json.loads((package_dir / "template.json").read_text(encoding="utf-8"))
        if self.lab and lab.iam_resources(template):
            raise DeployError(
                f"{package_dir} creates IAM resources ({', '.join(lab.iam_resources(template))}): "
                "package it in Learner Lab mode (make package-lambda LAB=1)"
            )
        if self.lab and TRACING not in params and TRACING in template.get("Parameters", {}):
            params[TRACING] = self._lab_tracing()
        zip_path = package_dir / "deployment.zip"
        digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()[:12]
        key = f"lambda/{self.stage}/deployment-{digest}.zip"
        self.client("s3").upload_file(str(zip_path), shared["ArtifactBucket"], key)
        params = {
            **self._lambda_tables(shared),
            "TokenParameter": staff_token.ensure_staff_token(self.client("ssm"), self.stage),
            "CodeBucket": shared["ArtifactBucket"],
            "CodeKey": key,
            **params,
        }
        result = self._deploy("lambda", template, params, bucket=shared["ArtifactBucket"])
        print(f"live push (WebSocket): {result.get('WebSocketUrl', '')}")
        return result

    def _lambda_tables(self, shared: dict[str, str]) -> dict[str, str]:
        """The data stack's tables and the order book's stream, which the live functions read."""
        wanted = {name: shared.get(name) for name in ("TableName", "ConnectionsTableName", "TableStreamArn")}
        missing = [name for name, value in wanted.items() if not value]
        if missing:
            raise DeployError(
                f"{stack_name('data', self.stage)} has no {', '.join(missing)} output (a data stack from "
                f"before live push): run make deploy-data STAGE={self.stage} first"
            )
        return {name: str(value) for name, value in wanted.items()}

    def _lab_tracing(self) -> str:
        """Active X-Ray tracing only when the preflight saw LabRole allowed to write traces:
        Lambda refuses to create a traced function whose role cannot."""
        status = self.report.status("sim:xray") if self.report else preflight.UNKNOWN
        if status == preflight.ALLOWED:
            print("X-Ray: LabRole may write traces (preflight): LambdaTracing=Active")
            return "Active"
        print(
            f"X-Ray: LabRole's trace writes are {status} (preflight): LambdaTracing=PassThrough, "
            "the function runs untraced (Lambda refuses active tracing for a role without X-Ray writes)"
        )
        return "PassThrough"

    # -- fargate --------------------------------------------------------------------------

    def deploy_fargate(
        self, params: dict[str, str], *, skip_image: bool = False, image_tag: str | None = None
    ) -> dict[str, str]:
        """First deploy: the stack without a service (so the repository exists), the image, then
        the service. Every later deploy: the image, then ONE stack update with the new tag — a new
        task definition revision rolled out in place by the same service (never a delete and
        create). Nothing is changed before the checks that can fail without AWS: task size, Learner
        Lab limits, the builder's platform, the ECS service-linked role."""
        try:
            fargate.check_size(
                int(params.get("Cpu", fargate.DEFAULT_CPU)), int(params.get("Memory", fargate.DEFAULT_MEMORY))
            )
        except (ValueError, fargate.TaskSizeError) as error:
            raise DeployError(str(error)) from None
        architecture = params.get("CpuArchitecture", "ARM64")
        if architecture not in image.PLATFORMS:
            raise DeployError(
                f"CpuArchitecture must be one of {', '.join(image.PLATFORMS)}; got {architecture}"
            )
        self.lab_preflight("deploy-fargate", params=params)
        shared = self.data_outputs()
        cfn = self.client("cloudformation")
        name = stack_name("fargate", self.stage)
        exists = stack.stack_status(cfn, name) not in (None, "ROLLBACK_COMPLETE")
        current = stack.stack_outputs(cfn, name) if exists else {}
        tag = image_tag or image.image_tag(architecture=architecture)
        if not skip_image:
            repository = current.get("RepositoryUri", "").split("/", 1)[-1]
            if not (repository and image.image_exists(self.client("ecr"), repository, tag)):
                image.require_builder(image.PLATFORMS[architecture])
        self._service_roles(service_roles.FARGATE)
        net = network.resolve(
            self.client("ec2"), params.pop("VpcId", None), _split(params.pop("SubnetIds", None))
        )
        base = {
            "Stage": self.stage,
            "TableName": shared["TableName"],
            "TokenParameter": staff_token.ensure_staff_token(self.client("ssm"), self.stage),
            "VpcId": net.vpc_id,
            "SubnetIds": ",".join(net.subnet_ids),
            **params,
        }
        template = fargate.template(lab=self.lab)
        if not exists:
            # First deploy only: everything but the service, so the repository exists for the push.
            current = self._deploy("fargate", template, {**base, "ImageTag": ""})
        repository = current["RepositoryUri"].split("/", 1)[1]
        if skip_image and not image.image_exists(self.client("ecr"), repository, tag):
            print(f"warning: {repository}:{tag} is not in ECR; the service will not start until it is")
        if not skip_image:
            self._push(current["RepositoryUri"], tag, architecture, created_for_it=not exists)
        result = self._deploy("fargate", template, {**base, "ImageTag": tag})
        self._staff_https_note("fargate", base, result.get("Url", ""))
        return result

    def _push(self, repository_uri: str, tag: str, architecture: str, *, created_for_it: bool) -> None:
        """Build and push; when the push fails on a first deploy, delete the service-less stack
        just created for it (its load balancer bills by the hour) so nothing is left running."""
        try:
            image.build_and_push(self.client("ecr"), repository_uri, tag, architecture)
        except (image.ContainerEngineError, subprocess.CalledProcessError, OSError) as error:
            name = stack_name("fargate", self.stage)
            if not created_for_it:
                raise DeployError(
                    f"the image push failed ({error}); {name} and its running service were not changed"
                ) from None
            print(f"the image push failed: deleting {name}, created for it, so nothing is left billing")
            stack.delete_stack(self.client("cloudformation"), name)
            outputs.forget("fargate", self.stage)
            raise DeployError(
                f"the image push failed ({error}). {name} (repository, load balancer), created for "
                "this first deploy, was deleted: nothing is left billing. Fix the push and deploy again."
            ) from None

    # -- ec2 ------------------------------------------------------------------------------

    def deploy_ec2(self, params: dict[str, str]) -> dict[str, str]:
        """Checks first (instance type, Learner Lab limits, the AMI's architecture), then the
        bundle upload and the stack. The AMI is always passed explicitly: the one given, else the
        one the stack already runs (so a newly published AL2023 AMI never replaces the instance on
        an unrelated update; ``--refresh-ami`` moves to the current one), else the current AL2023
        for the architecture, resolved from AWS's public SSM parameter now."""
        instance_type = params.get("InstanceType", ec2.DEFAULT_INSTANCE_TYPE)
        try:
            architecture = ec2.architecture_of(instance_type)
        except KeyError:
            allowed = ", ".join(t for types in ec2.INSTANCE_TYPES.values() for t in types)
            raise DeployError(
                f"instance type {instance_type} is not allowed; choose one of {allowed}"
            ) from None
        if self.lab:
            _lab_check(self.region, instance_type)
        scale_out = params.get("Mode") == "scale-out"
        if scale_out:
            low = int(params.get("MinSize", ec2.DEFAULT_MIN_SIZE))
            high = int(params.get("MaxSize", ec2.DEFAULT_MAX_SIZE))
            if high <= low:
                raise DeployError(
                    f"MaxSize ({high}) must be above MinSize ({low}): a rolling update keeps MinSize "
                    "instances in service while it launches one more"
                )
        self.lab_preflight("deploy-ec2", instance_type=instance_type, params=params)
        refresh_ami = params.pop("RefreshAmi", "") == "true"
        ami_id = params.get("AmiId") or self._ec2_ami(architecture, refresh=refresh_ami)
        self._check_ami_architecture(ami_id, instance_type, architecture)
        shared = self.data_outputs()
        bundle_path = bundle.build(ROOT, BUILD / "ec2")
        key = bundle.upload(self.client("s3"), shared["ArtifactBucket"], self.stage, bundle_path)
        net = network.resolve(
            self.client("ec2"), params.pop("VpcId", None), _split(params.pop("SubnetIds", None))
        )
        subnet = params.pop("SubnetId", None) or network.subnet_offering(
            self.client("ec2"), net.subnet_ids, instance_type
        )
        subnets = net.subnet_ids
        if scale_out:
            subnets = network.scale_out_subnets(self.client("ec2"), net.subnet_ids, instance_type)
            if subnets != net.subnet_ids:
                left_out = ", ".join(s for s in net.subnet_ids if s not in subnets)
                print(f"scale-out: leaving out {left_out} (its zone does not offer {instance_type})")
            self._service_roles(service_roles.EC2_SCALE_OUT)
        base = {
            "Stage": self.stage,
            "TableName": shared["TableName"],
            "ArtifactBucket": shared["ArtifactBucket"],
            "BundleKey": key,
            "TokenParameter": staff_token.ensure_staff_token(self.client("ssm"), self.stage),
            "VpcId": net.vpc_id,
            "SubnetId": subnet,
            "SubnetIds": ",".join(subnets),
            "Architecture": architecture,
            # Lab mode: no SSM-typed parameter (CloudFormation would read it with the lab's
            # permissions on every operation); the AMI resolved here is the plain AmiId.
            **({} if self.lab else {"AmiSsmParameter": ec2.AMI_SSM_PATH[architecture]}),
            **params,
            "AmiId": ami_id,
        }
        result = self._deploy("ec2", ec2.template(lab=self.lab), base, bucket=shared["ArtifactBucket"])
        self._staff_https_note("ec2", base, result.get("Url", ""))
        return result

    def _ec2_ami(self, architecture: str, *, refresh: bool) -> str:
        cfn = self.client("cloudformation")
        name = stack_name("ec2", self.stage)
        if not refresh and stack.stack_status(cfn, name) not in (None, "ROLLBACK_COMPLETE"):
            running = stack.stack_parameters(cfn, name)
            if running.get("AmiId") and running.get("Architecture") == architecture:
                return running["AmiId"]
        found = ami.current(self.client("ssm"), self.client("ec2"), architecture)
        print(f"AMI: {found.image_id} (current AL2023, from {found.source})")
        return found.image_id

    def _check_ami_architecture(self, ami_id: str, instance_type: str, architecture: str) -> None:
        try:
            images = self.client("ec2").describe_images(ImageIds=[ami_id])["Images"]
        except ClientError as error:
            raise DeployError(f"AMI {ami_id}: {error}") from None
        if not images:
            raise DeployError(f"AMI {ami_id} does not exist in {self.region} (or is not shared with you)")
        found = images[0].get("Architecture")
        if found != architecture:
            raise DeployError(
                f"AMI {ami_id} is {found} but {instance_type} needs {architecture}: pick an "
                f"{found} instance type or an {architecture} AMI"
            )


def _lab_check(region: str, instance_type: str | None = None) -> None:
    try:
        lab.check(region, instance_type)
    except lab.LabLimitError as error:
        raise DeployError(f"Learner Lab mode: {error}") from None


def _split(value: str | None) -> list[str] | None:
    return [item for item in value.split(",") if item] if value else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy", description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["data", "lambda", "fargate", "ec2"])
    parser.add_argument("--stage", default=os.environ.get("STAGE", "dev"))
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or "us-east-1")
    parser.add_argument("--destroy", action="store_true", help="delete the stack instead")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="Key=Value",
        help="CloudFormation parameter override (repeatable)",
    )
    parser.add_argument("--deletion-protection", choices=["true", "false"], default="true")
    parser.add_argument("--package-dir", type=Path, help="lambda: an existing chalice package dir")
    parser.add_argument("--skip-image", action="store_true", help="fargate: do not build/push")
    parser.add_argument("--image-tag", help="fargate: deploy this tag (default: content hash)")
    parser.add_argument("--use-baked-ami", action="store_true", help="ec2: launch the AMI from make bake-ami")
    parser.add_argument(
        "--refresh-ami",
        action="store_true",
        help="ec2: move to the current AL2023 AMI (replaces the instance)",
    )
    parser.add_argument(
        "--lab",
        action="store_true",
        help="AWS Academy Learner Lab: no IAM resources, the lab's role/profile, its limits",
    )
    args = parser.parse_args(argv)
    deployer = Deployer(args.stage, args.region, lab=args.lab)
    deployer.whoami()  # before anything else: no credentials, expired ones, lab ones without LAB=1
    if args.destroy:
        deployer.destroy(args.kind)
        return
    params = _parse_params(args.param)
    if args.kind == "data":
        deployer.deploy_data(args.deletion_protection)
    elif args.kind == "lambda":
        deployer.deploy_lambda(args.package_dir, params)
    elif args.kind == "fargate":
        deployer.deploy_fargate(params, skip_image=args.skip_image, image_tag=args.image_tag)
    else:
        if args.use_baked_ami:
            params["AmiId"] = bake.baked_ami_id(args.stage)
        if args.refresh_ami:
            params["RefreshAmi"] = "true"
        deployer.deploy_ec2(params)


if __name__ == "__main__":
    try:
        main()
    except (
        DeployError,
        stack.StackError,
        network.NoDefaultVpcError,
        network.NoZoneOffersTypeError,
        image.ContainerEngineError,
        bake.BakeError,
        service_roles.ServiceRoleError,
        ami.AmiLookupError,
    ) as error:
        raise SystemExit(f"deploy failed: {error}") from None
    except Exception as error:
        # Credentials that vanish or expire halfway (a lab session ending) end the same way.
        message = credentials.explain(error)
        if message is None:
            raise
        raise SystemExit(f"deploy failed: {message}") from None

"""Create-or-update a CloudFormation stack, wait for it, and read its outputs.

Plain boto3 (so ``AWS_ENDPOINT_URL`` redirects it to moto in the tests); failures raise
:class:`StackError` carrying the events CloudFormation recorded, so ``make deploy-*`` ends
with the reason instead of a bare "ROLLBACK_COMPLETE".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError, WaiterError

from infra.cfn import Json

#: Largest TemplateBody CloudFormation accepts; above it the template goes through S3.
MAX_TEMPLATE_BODY = 51_200
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
WAITER = {"Delay": 10, "MaxAttempts": 360}


class StackError(RuntimeError):
    """A stack operation failed; the message lists the failed resources and their reasons."""


def stack_status(cfn: Any, name: str) -> str | None:
    """The stack's status, or None when it does not exist (deleted stacks count as absent)."""
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    status: str = stacks[0]["StackStatus"]
    return None if status == "DELETE_COMPLETE" else status


def stack_outputs(cfn: Any, name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {item["OutputKey"]: item["OutputValue"] for item in stack.get("Outputs", [])}


def stack_parameters(cfn: Any, name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {item["ParameterKey"]: item.get("ParameterValue", "") for item in stack.get("Parameters", [])}


def _failure_reasons(cfn: Any, name: str) -> str:
    try:
        events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    except ClientError:
        return ""
    failed = [e for e in events if e.get("ResourceStatus", "").endswith("FAILED")]
    return "\n".join(
        f"  {e['LogicalResourceId']} {e['ResourceStatus']}: {e.get('ResourceStatusReason', '')}"
        for e in reversed(failed)
    )


def _wait(cfn: Any, waiter_name: str, name: str) -> None:
    try:
        cfn.get_waiter(waiter_name).wait(StackName=name, WaiterConfig=WAITER)
    except WaiterError as error:
        raise StackError(f"stack {name}: {error}\n{_failure_reasons(cfn, name)}") from error


def _template_argument(template: Json, *, s3: Any, bucket: str | None, name: str) -> dict[str, str]:
    body = json.dumps(template, separators=(",", ":"))
    if len(body) <= MAX_TEMPLATE_BODY:
        return {"TemplateBody": body}
    if s3 is None or bucket is None:
        raise StackError(f"template for {name} is {len(body)} bytes; it needs an artifact bucket")
    key = f"templates/{name}.json"
    s3.put_object(Bucket=bucket, Key=key, Body=body.encode())
    return {"TemplateURL": f"https://{bucket}.s3.amazonaws.com/{key}"}


def deploy_stack(
    cfn: Any,
    name: str,
    template: Json,
    parameters: Mapping[str, str],
    *,
    tags: Mapping[str, str] | None = None,
    s3: Any = None,
    bucket: str | None = None,
) -> dict[str, str]:
    """Create the stack or update it in place; returns its outputs once it is stable.

    A stack left in ROLLBACK_COMPLETE (a failed first create) cannot be updated, so it is deleted
    and created again. "No updates are to be performed" is success.
    """
    arguments: dict[str, Any] = {
        "StackName": name,
        **_template_argument(template, s3=s3, bucket=bucket, name=name),
        "Parameters": [{"ParameterKey": k, "ParameterValue": str(v)} for k, v in parameters.items()],
        "Capabilities": CAPABILITIES,
        "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
    }
    status = stack_status(cfn, name)
    if status == "ROLLBACK_COMPLETE":
        delete_stack(cfn, name)
        status = None
    if status is None:
        print(f"creating stack {name}")
        try:
            cfn.create_stack(**arguments, OnFailure="ROLLBACK")
        except ClientError as error:
            raise StackError(f"stack {name}: {error}") from error
        _wait(cfn, "stack_create_complete", name)
    else:
        print(f"updating stack {name} (was {status})")
        try:
            cfn.update_stack(**arguments)
        except ClientError as error:
            if "No updates are to be performed" not in str(error):
                raise StackError(f"stack {name}: {error}") from error
            print(f"stack {name}: no changes")
        else:
            _wait(cfn, "stack_update_complete", name)
    return stack_outputs(cfn, name)


def delete_stack(cfn: Any, name: str) -> bool:
    """Delete the stack and wait; False when there was nothing to delete."""
    if stack_status(cfn, name) is None:
        print(f"stack {name} does not exist")
        return False
    print(f"deleting stack {name}")
    cfn.delete_stack(StackName=name)
    _wait(cfn, "stack_delete_complete", name)
    return True

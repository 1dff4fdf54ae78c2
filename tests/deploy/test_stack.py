"""infra.stack's failure paths, with botocore's Stubber (moto always succeeds or crashes)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from infra import stack


def _client() -> Any:
    return boto3.client(
        "cloudformation", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


def _missing(stubber: Stubber, name: str) -> None:
    stubber.add_client_error("describe_stacks", "ValidationError", f"Stack with id {name} does not exist")


def _described(stubber: Stubber, name: str, status: str) -> None:
    stubber.add_response(
        "describe_stacks",
        {"Stacks": [{"StackName": name, "StackStatus": status, "CreationTime": datetime.now(UTC)}]},
    )


def test_failed_create_reports_the_failed_resources() -> None:
    cfn = _client()
    with Stubber(cfn) as stubber:
        _missing(stubber, "s")
        stubber.add_response(
            "create_stack",
            {"StackId": "arn:stack/s"},
            {
                "StackName": "s",
                "TemplateBody": ANY,
                "Parameters": ANY,
                "Capabilities": ANY,
                "Tags": ANY,
                "OnFailure": "ROLLBACK",
            },
        )
        _described(stubber, "s", "ROLLBACK_COMPLETE")  # the waiter's first poll: a failure state
        stubber.add_response(
            "describe_stack_events",
            {
                "StackEvents": [
                    {
                        "StackId": "arn:stack/s",
                        "EventId": "1",
                        "StackName": "s",
                        "LogicalResourceId": "Instance",
                        "ResourceStatus": "CREATE_FAILED",
                        "ResourceStatusReason": "t4g.small is not supported in us-east-1z",
                        "Timestamp": datetime.now(UTC),
                    }
                ]
            },
        )
        with pytest.raises(stack.StackError, match=r"Instance CREATE_FAILED: t4g.small is not supported"):
            stack.deploy_stack(cfn, "s", {"Resources": {}}, {"A": "1"})


def test_a_refused_create_is_a_stack_error() -> None:
    cfn = _client()
    with Stubber(cfn) as stubber:
        _missing(stubber, "s")
        stubber.add_client_error("create_stack", "ValidationError", "Parameter 'Mode' must be one of ...")
        with pytest.raises(stack.StackError, match="Parameter 'Mode' must be one of"):
            stack.deploy_stack(cfn, "s", {"Resources": {}}, {})


def test_no_changes_is_success() -> None:
    cfn = _client()
    with Stubber(cfn) as stubber:
        _described(stubber, "s", "UPDATE_COMPLETE")
        stubber.add_client_error("update_stack", "ValidationError", "No updates are to be performed.")
        stubber.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackName": "s",
                        "StackStatus": "UPDATE_COMPLETE",
                        "CreationTime": datetime.now(UTC),
                        "Outputs": [{"OutputKey": "Url", "OutputValue": "http://x"}],
                    }
                ]
            },
        )
        assert stack.deploy_stack(cfn, "s", {"Resources": {}}, {}) == {"Url": "http://x"}


def test_large_templates_go_through_the_artifact_bucket() -> None:
    big = {"Resources": {}, "Description": "x" * (stack.MAX_TEMPLATE_BODY + 1)}
    with pytest.raises(stack.StackError, match="needs an artifact bucket"):
        stack._template_argument(big, s3=None, bucket=None, name="s")

    class FakeS3:
        def __init__(self) -> None:
            self.keys: list[str] = []

        def put_object(self, Bucket: str, Key: str, Body: bytes) -> None:
            self.keys.append(f"{Bucket}/{Key}")

    s3 = FakeS3()
    argument = stack._template_argument(big, s3=s3, bucket="b", name="s")
    assert argument == {"TemplateURL": "https://b.s3.amazonaws.com/templates/s.json"}
    assert s3.keys == ["b/templates/s.json"]

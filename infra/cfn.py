"""Tiny helpers for writing CloudFormation as Python dicts.

Templates are generated (not hand-written YAML) so they can import the table layout from
``cafe.stores.schema`` and share fragments; these helpers keep the intrinsic functions readable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

Json = dict[str, Any]


def ref(name: str) -> Json:
    return {"Ref": name}


def sub(text: str, variables: Json | None = None) -> Json:
    return {"Fn::Sub": text if variables is None else [text, variables]}


def get_att(resource: str, attribute: str) -> Json:
    return {"Fn::GetAtt": [resource, attribute]}


def if_(condition: str, when_true: Any, when_false: Any) -> Json:
    return {"Fn::If": [condition, when_true, when_false]}


def equals(left: Any, right: Any) -> Json:
    return {"Fn::Equals": [left, right]}


def not_(condition: Json) -> Json:
    return {"Fn::Not": [condition]}


def and_(*conditions: Json) -> Json:
    return {"Fn::And": list(conditions)}


def condition(name: str) -> Json:
    return {"Condition": name}


NO_VALUE: Json = {"Ref": "AWS::NoValue"}


def table_arn(table_name: Json | str) -> Json:
    """ARN of a DynamoDB table named by a parameter (or literal) in this account and region."""
    return sub(
        "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Table}",
        {"Table": table_name},
    )


def index_arn(table_name: Json | str) -> Json:
    return sub(
        "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${Table}/index/*",
        {"Table": table_name},
    )


def checkov_skips(*skips: tuple[str, str]) -> Json:
    """Resource Metadata telling checkov which checks do not apply, each with the reason."""
    return {"checkov": {"skip": [{"id": check, "comment": reason} for check, reason in skips]}}


def tags(stage: Json | str, **extra: str) -> list[Json]:
    pairs: list[Json] = [{"Key": "project", "Value": "cafe-compute"}, {"Key": "stage", "Value": stage}]
    pairs += [{"Key": key, "Value": value} for key, value in extra.items()]
    return pairs


def dump(template: Json, path: Path) -> Path:
    """Write a template as stable, human-diffable JSON (CloudFormation accepts JSON directly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(template, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path

"""Template generators: pure functions returning CloudFormation templates as dicts."""

from __future__ import annotations

from collections.abc import Callable

from infra.cfn import Json
from infra.templates import data, ec2, fargate

#: stack kind → generator; ``infra.render`` writes each to ``build/templates/<kind>.json``.
GENERATORS: dict[str, Callable[[], Json]] = {
    "data": data.template,
    "fargate": fargate.template,
    "ec2": ec2.template,
}

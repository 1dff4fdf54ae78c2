"""Template generators: pure functions returning CloudFormation templates as dicts."""

from __future__ import annotations

from collections.abc import Callable

from infra.cfn import Json
from infra.templates import data, ec2, fargate

#: stack kind → generator taking ``lab`` (Learner Lab mode: no IAM resources); ``infra.render``
#: writes each to ``build/templates/<kind>.json``. The data stack creates no IAM either way.
GENERATORS: dict[str, Callable[[bool], Json]] = {
    "data": lambda lab: data.template(),
    "fargate": fargate.template,
    "ec2": ec2.template,
}

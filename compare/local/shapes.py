"""Each runtime's deployed shape: the CPU and memory it has on AWS with the templates' defaults.

The figures are read from where the deploy reads them, never retyped:

- Lambda: memory from the run options (the Chalice deploy's 512 MB by default), CPU in proportion
  to it: "at 1,769 MB, a function has the equivalent of one vCPU" (Lambda developer guide,
  "Configuring Lambda function memory"). Each execution environment gets its own envelope.
- Fargate: the task's Cpu units / 1,024 and Memory MiB, the defaults of infra/templates/fargate.py;
  the worker count follows the task's vCPUs (at least one).
- EC2: the instance type of infra/templates/ec2.py (t4g.small), its vCPUs, memory and burstable
  baseline from the price snapshot's instance table (AWS's instance-type pages). With a full credit
  balance the instance runs at its full vCPUs; with its credits exhausted (standard mode), at the
  baseline: 20 % of each of a t4g.small's 2 vCPUs, 0.4 vCPU in all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from compare.cost.prices import PriceBook
from compare.local.envelopes import Limits
from infra.templates import ec2 as ec2_template
from infra.templates import fargate as fargate_template

Credits = Literal["full", "exhausted"]
CREDIT_MODES: tuple[Credits, ...] = ("full", "exhausted")


@dataclass(frozen=True)
class Shape:
    """One runtime as deployed: its envelope, worker count and where the figures come from."""

    runtime: str
    limits: Limits
    basis: str
    workers: int | None = None
    credits: str | None = None

    @property
    def cpu_vcpu(self) -> float:
        assert self.limits.cpu_vcpu is not None
        return self.limits.cpu_vcpu

    @property
    def memory_mb(self) -> int:
        assert self.limits.memory_mb is not None
        return self.limits.memory_mb


def lambda_shape(memory_mb: int) -> Shape:
    limits = Limits.lambda_environment(memory_mb)
    vcpu = limits.cpu_vcpu or 0.0
    return Shape(
        "lambda",
        limits,
        f"{memory_mb} MB per environment → {vcpu:.2f} vCPU (1 vCPU per 1,769 MB, Lambda developer guide)",
    )


def _default(template: dict[str, object], name: str) -> object:
    parameters = template["Parameters"]
    assert isinstance(parameters, dict)
    return parameters[name]["Default"]


def fargate_shape() -> Shape:
    template = fargate_template.template()
    units = int(str(_default(template, "Cpu")))
    memory = int(str(_default(template, "Memory")))
    vcpu = units / 1024
    workers = max(1, int(vcpu))
    return Shape(
        "fargate",
        Limits(vcpu, memory),
        f"the task's defaults in infra/templates/fargate.py: Cpu {units} ({vcpu:g} vCPU), "
        f"Memory {memory} MiB",
        workers=workers,
    )


def ec2_instance_type() -> str:
    return str(_default(ec2_template.template(), "InstanceType"))


def ec2_shape(
    credits: Credits = "full", instance_type: str | None = None, book: PriceBook | None = None
) -> Shape:
    name = instance_type or ec2_instance_type()
    facts = (book or PriceBook.load("us-east-1")).instance_type(name)
    vcpus = int(facts["vcpu"])
    memory = int(float(facts["memory_gib"]) * 1024)
    baseline = facts.get("baseline_pct") if facts.get("burstable") else None
    if credits == "exhausted" and baseline is not None:
        vcpu = vcpus * float(baseline) / 100
        credit_text = f"credits exhausted: capped at the {baseline} % baseline per vCPU ({vcpu:g} vCPU)"
    elif baseline is not None:
        vcpu = float(vcpus)
        credit_text = f"full credit balance: {vcpus} vCPU at 100 % (baseline {baseline} % once spent)"
    else:
        vcpu = float(vcpus)
        credit_text = "not burstable"
    return Shape(
        "ec2",
        Limits(vcpu, memory),
        f"{name} (infra/templates/ec2.py default): {vcpus} vCPU, {memory} MiB",
        workers=vcpus,  # gunicorn: one worker per vCPU, as the instance runs it
        credits=credit_text,
    )

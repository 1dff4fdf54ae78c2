"""Optional link to the cost model (compare/cost/, another area): used only if it is there.

The cost package exposes `estimate(profile) -> dict` and `breakeven_chart(result, path)`. This
module takes one of its profiles as the café's business inputs, overrides the figures the latency
run measured (each labelled "measured here" or "measured on AWS" in the profile's provenance),
calls them, and says plainly when the package is absent or fails: the latency report never
depends on it.
"""

from __future__ import annotations

import copy
import importlib
import json
from pathlib import Path
from typing import Any

BASE_PROFILE = Path(__file__).with_name("cost") / "profiles" / "small-cafe.json"


def _put(profile: dict[str, Any], key: str, value: Any, label: str) -> None:
    node = profile
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    profile.setdefault("provenance", {})[key] = label


def measured_profile(results: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """`base` with every figure this run measured put in, labelled with where it was measured."""
    label = "measured on AWS" if results["mode"] == "remote" else "measured here"
    profile = copy.deepcopy(base)
    profile["description"] = f"{base.get('description', '')} Measured figures from the latency run ({label})."
    _put(profile, "slo_p99_ms", results["options"]["slo_p99_ms"], "profile")
    for name, entry in results["runtimes"].items():
        reference = entry.get("reference") or {}
        if reference.get("latency_ms"):
            _put(profile, f"p99_ms.{name}", round(reference["latency_ms"]["p99"], 2), label)
        cpu = reference.get("server_cpu")
        if cpu and name in ("fargate", "ec2"):
            _put(profile, f"{name}.cpu_ms_per_request", round(cpu["ms_per_request"]["total"], 3), label)
        reports = reference.get("lambda_reports") or (entry.get("lambda_reports") or {}).get("summary")
        if name == "lambda" and reports and reports.get("invocations"):
            warm = reports.get("billed_warm_ms", {}).get("mean") or reports["billed_ms"]["mean"]
            _put(profile, "lambda.avg_billed_ms", round(warm, 2), label)
            if reports.get("memory_size_mb"):
                _put(profile, "lambda.memory_mb", reports["memory_size_mb"], label)
        cold = entry.get("cold_start") or {}
        if name == "lambda" and "init_ms" in cold and cold["init_ms"]["n"]:
            _put(profile, "lambda.init_ms", round(cold["init_ms"]["median"], 1), label)
    return profile


def cost_section(results: dict[str, Any], out_dir: Path, base_profile: Path = BASE_PROFILE) -> dict[str, Any]:
    """{"available": bool, "estimate": ..., "chart": path | None, "profile": ..., "note": str}."""
    try:
        cost = importlib.import_module("compare.cost")
    except ImportError as exc:
        return {"available": False, "note": f"cost model not installed ({exc})"}
    estimate = getattr(cost, "estimate", None)
    if estimate is None:
        return {"available": False, "note": "compare.cost has no estimate()"}
    try:
        base = json.loads(base_profile.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {"available": False, "note": f"no base cost profile at {base_profile} ({exc})"}
    profile = measured_profile(results, base)
    try:
        result = estimate(profile)
    except Exception as exc:
        return {
            "available": False,
            "note": f"compare.cost.estimate failed: {type(exc).__name__}: {exc}",
            "profile": profile,
        }
    section: dict[str, Any] = {
        "available": True,
        "estimate": result,
        "chart": None,
        "profile": profile,
        "base_profile": str(base_profile),
        "note": "modeled",
    }
    breakeven = getattr(cost, "breakeven_chart", None)
    if breakeven is not None:
        target = out_dir / "breakeven.png"
        try:
            breakeven(result, target)
            section["chart"] = target if target.exists() else None
        except Exception as exc:
            section["note"] = f"modeled; breakeven_chart failed: {type(exc).__name__}: {exc}"
    return section

"""The day as a chart: requests, p99 and capacity per hour, one panel per runtime."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def day_footer(result: dict[str, Any]) -> str:
    """The day chart's provenance footer, in the words every chart of the comparison uses."""
    from compare.chartstyle import provenance_footer

    return provenance_footer(
        "modeled",
        f"simulated day, seed {result['provenance']['seed']}, from measured-here and sourced AWS "
        "figures (not measured on AWS); usd from the cost model's price snapshot",
        "make day",
    )


def day_chart(result: dict[str, Any], path: Path, footer: str | None = None) -> Path:
    import matplotlib.pyplot as plt

    from compare.chartstyle import finish, runtime_color

    names = list(result["runtimes"])
    fig, axes = plt.subplots(len(names), 1, figsize=(9, 3.2 * len(names)), sharex=True)
    for ax, name in zip(axes, names, strict=True):
        hours = result["runtimes"][name]["hours"]
        x = [h["hour"] for h in hours]
        ax.bar(x, [h["requests"] for h in hours], color="#c8d7e8", label="requests")
        ax.set_ylabel("requests / hour")
        p99 = ax.twinx()
        p99.plot(x, [h["p99_ms"] for h in hours], "o-", color=runtime_color(name), label="p99 ms")
        p99.set_ylabel("p99 (ms)")
        top = max((h["p99_ms"] or 0) for h in hours)
        p99.set_ylim(0, top * 1.3 if top else 1)
        cap = ax.twinx()
        cap.spines["right"].set_position(("axes", 1.1))
        cap.step(x, [h["capacity_units"] for h in hours], where="mid", color="#555", label="capacity")
        cap.set_ylabel({"lambda": "environments", "fargate": "tasks", "ec2": "instances"}.get(name, "units"))
        cap.set_ylim(0, max(h["capacity_units"] for h in hours) + 1)
        day = result["runtimes"][name]["day"]
        title = (
            f"{name}: {day['requests']} requests, day p99 {day['p99_ms']} ms, "
            f"cold {day['cold_start_share']:.2%}, ${day['usd']:.4g}/day"
        )
        sweep = result["runtimes"][name].get("idle_reap_sweep")
        if sweep:
            title += "\nidle time before reaping → cold share: " + ", ".join(
                f"{row['idle_reap_s'] / 60:g} min {row['cold_start_share']:.2%}" for row in sweep
            )
        ax.set_title(title, fontsize=10)
        handles = [h for a in (ax, p99, cap) for h in a.get_legend_handles_labels()[0]]
        ax.legend(handles, [h.get_label() for h in handles], loc="upper left", fontsize=8)
    axes[-1].set_xlabel("hour of the day")
    axes[-1].set_xticks(range(0, 24, 2))
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return finish(fig, footer or day_footer(result), path)

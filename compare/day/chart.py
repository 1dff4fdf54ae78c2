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


#: One line style per mode, as on the break-even chart: solid push, dashed polling.
MODE_STYLE = {"push": "-", "polling": "--"}
BAR_COLOR = {"push": "#9fbfdf", "polling": "#d9d9d9"}


def day_chart(result: dict[str, Any], path: Path, footer: str | None = None) -> Path:
    """One panel per runtime: requests per hour in each mode (bars), the request p99 per mode
    (solid push, dashed polling), and the profile's mode's capacity."""
    import matplotlib.pyplot as plt

    from compare.chartstyle import finish, runtime_color

    modes: dict[str, Any] = result.get("modes") or {result.get("mode", "polling"): result}
    mine = result.get("mode", next(iter(modes)))
    names = list(result["runtimes"])
    fig, axes = plt.subplots(len(names), 1, figsize=(9, 3.4 * len(names)), sharex=True)
    width = 0.8 / len(modes)
    for ax, name in zip(axes, names, strict=True):
        p99 = ax.twinx()
        top = 0.0
        titles = []
        for i, (mode, simulated) in enumerate(modes.items()):
            hours = simulated["runtimes"][name]["hours"]
            x = [h["hour"] + (i - (len(modes) - 1) / 2) * width for h in hours]
            requests = [h["requests"] for h in hours]
            ax.bar(x, requests, width=width, color=BAR_COLOR.get(mode, "#ccc"), label=f"requests ({mode})")
            p99.plot(
                [h["hour"] for h in hours],
                [h["p99_ms"] for h in hours],
                MODE_STYLE.get(mode, ":"),
                marker="o",
                markersize=3,
                color=runtime_color(name),
                label=f"p99 ms ({mode})",
            )
            top = max([top, *((h["p99_ms"] or 0) for h in hours)])
            day = simulated["runtimes"][name]["day"]
            notice = day.get("notice_p99_ms")
            titles.append(
                f"{mode}: {day['requests']} requests, p99 {day['p99_ms']} ms, "
                + (f"screens ≤ {notice:,.0f} ms late (p99), " if notice is not None else "")
                + f"${day['usd']:.4g}/day"
            )
        ax.set_ylabel("requests / hour")
        p99.set_ylabel("p99 (ms)")
        p99.set_ylim(0, top * 1.3 if top else 1)
        cap = ax.twinx()
        cap.spines["right"].set_position(("axes", 1.1))
        hours = modes[mine]["runtimes"][name]["hours"]
        x = [h["hour"] for h in hours]
        cap.step(
            x, [h["capacity_units"] for h in hours], where="mid", color="#555", label=f"capacity ({mine})"
        )
        cap.set_ylabel({"lambda": "environments", "fargate": "tasks", "ec2": "instances"}.get(name, "units"))
        cap.set_ylim(0, max(h["capacity_units"] for h in hours) + 1)
        title = f"{name}\n" + "\n".join(titles)
        sweep = result["runtimes"][name].get("idle_reap_sweep")
        if sweep:
            title += "\nidle time before reaping → cold share: " + ", ".join(
                f"{row['idle_reap_s'] / 60:g} min {row['cold_start_share']:.2%}" for row in sweep
            )
        ax.set_title(title, fontsize=9)
        handles = [h for a in (ax, p99, cap) for h in a.get_legend_handles_labels()[0]]
        ax.legend(handles, [h.get_label() for h in handles], loc="upper left", fontsize=7)
    axes[-1].set_xlabel("hour of the day")
    axes[-1].set_xticks(range(0, 24, 2))
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return finish(fig, footer or day_footer(result), path)

"""Plots for notebook 06: each measurement against what the device itself can do."""

from __future__ import annotations

from .ceilings import ceiling_for
from .results import Results


def plot_results(results: Results, ceilings: dict[str, dict[str, float]] | None = None, title: str = ""):
    """Horizontal bars per device: the measured value, and its ceiling as an outline where known.

    ``ceilings`` maps a device label to gpu_ceilings(); rows without a ceiling show the value alone.
    """
    import matplotlib.pyplot as plt

    ceilings = ceilings or {}
    devices = sorted({r.device for r in results.results})
    rows_per = [[r for r in results.results if r.device == d] for d in devices] or [[]]
    fig, axes = plt.subplots(
        len(rows_per), 1, figsize=(9, 0.45 * sum(len(r) for r in rows_per) + 1.5 * len(rows_per)), squeeze=False
    )
    for ax, rows, device in zip(axes[:, 0], rows_per, devices or [""], strict=False):
        labels = [f"{r.name} {r.precision} ({r.metric})" for r in rows]
        values = [r.value for r in rows]
        limits = [ceiling_for(r, ceilings.get(device, {})) for r in rows]
        y = range(len(rows))
        ax.barh(y, values, color="#76b900", label="measured")
        for yi, limit, value in zip(y, limits, values, strict=True):
            if limit:
                ax.barh(yi, limit, fill=False, edgecolor="#333", linestyle="--")
                ax.text(value, yi, f" {100 * value / limit:.0f}%", va="center", fontsize=8)
        ax.set_yticks(list(y), labels, fontsize=8)
        ax.set_xscale("log")
        ax.set_title(device, fontsize=10)
        ax.set_xlabel("value (log scale); dashed outline: the device's own ceiling")
    fig.suptitle(title or "gpudock bench")
    fig.tight_layout()
    plt.close(fig)  # returned, not shown: the caller (a notebook cell, savefig) decides
    return fig

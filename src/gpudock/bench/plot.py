"""Figures for notebook 06 and the slides: one question per figure, values printed on the bars, 16:9.

(a) fig_ceilings       how close each benchmark comes to what the device can do (% of its ceilings)
(b) fig_reference      gpudock's nbody against NVIDIA's own sample (same run, else the labelled anchor)
(c) fig_host_container the same benchmark on the host and in a container, paired
(d) fig_gpu_vs_cpu     the GPU against the compiled CPU baseline (never against NumPy)

Each takes a Results (a merged file may hold host, container and reference rows) and returns a
matplotlib Figure, or a ``Missing`` that says in one sentence what is missing, never an empty plot.
"""

from __future__ import annotations

from .ceilings import ceilings_for
from .reference import pairs
from .results import Result, Results

# inches at 100 dpi: the slides' figure box (1168x580 px under a slide's title), so a slide shows the figure at
# about its own size: 14 pt at 100 dpi is 19.4 px, the smallest text any figure has (MIN_PT)
SLIDE = (11.68, 5.8)
MIN_PT = 14  # a figure the notebook saved wider than the box (bbox "tight") is shrunk a little: 14 pt keeps 18 px
# One meaning per colour in every figure: green is gpudock's measurement on the GPU, grey what it is set
# against (NVIDIA's sample, the compiled CPU baseline, a device's CPU), light grey a spread, dark a limit.
GREEN, GREY, BLUE, DARK = "#76b900", "#8c8c8c", "#8c8c8c", "#333333"
_FONT = {"font.size": 14, "axes.titlesize": 18, "axes.labelsize": 14, "xtick.labelsize": 13, "ytick.labelsize": 13}


def _figure(title: str):
    import matplotlib.pyplot as plt

    with plt.rc_context(_FONT):
        fig, ax = plt.subplots(figsize=SLIDE)
    ax.set_title(title, fontsize=18, loc="left", pad=12)
    return fig, ax


def _done(fig, tight: bool = True):
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    for text in fig.findobj(Text):  # no text under 18 px on a slide, whatever a figure asked for
        if text.get_fontsize() < MIN_PT:
            text.set_fontsize(MIN_PT)
    if tight:
        fig.tight_layout()
    plt.close(fig)  # returned, not shown: the caller (a notebook cell, savefig) decides
    return fig


class Missing:
    """What a figure would need, as a sentence: a notebook cell shows it as text, never as a blank canvas."""

    def __init__(self, title: str, text: str):
        self.title, self.text = title, " ".join(text.split())

    def __repr__(self) -> str:
        return f"{self.title}: {self.text}"

    def savefig(self, *args, **kwargs) -> None:
        raise ValueError(f"no figure to save: {self!r}")


def _message(title: str, text: str) -> Missing:
    return Missing(title, text)


def _short(device: str) -> str:
    """'cuda:0 NVIDIA H200' -> 'H200'; 'cpu Intel(R) Xeon(R) Processor (16 threads)' -> 'CPU (16 threads)'."""
    if device.startswith("cuda:"):
        return device.split(" ", 1)[-1].replace("NVIDIA ", "")
    threads = device[device.rfind("(") :] if "(" in device else ""
    return f"CPU {threads}".strip()


def _fmt(value: float, metric: str) -> str:
    if metric == "GFLOP/s" and value >= 1000:
        return f"{value / 1000:,.1f} TFLOP/s"
    return f"{value:,.1f} {metric}" if value < 100 else f"{value:,.0f} {metric}"


def _measured(results: Results, where: tuple[str, ...] = ("host", "container")) -> list[Result]:
    """gpudock's own rows, host before container when a merged file holds both (one per key)."""
    seen, out = set(), []
    for kind in where:
        for r in results.results:
            if r.where == kind and r.key not in seen:
                seen.add(r.key)
                out.append(r)
    return out


# --- (a) ------------------------------------------------------------------------------------------

_SHORT_CEILING = {
    "nbody issue limit (13 instructions per interaction)": "issue limit",
    "FP32 FMA peak": "FMA peak",
    "FP64 FMA peak": "FMA peak",
    "FP64 tensor-core peak": "tensor peak",
    "FP16 dense tensor-core peak": "tensor peak",
    "BF16 dense tensor-core peak": "tensor peak",
    "memory bus peak": "bus peak",
}


def _attested_label(source: str) -> str:
    """A row's ceiling_source in a few words: 'datasheet', 'issue limit', 'PCIe Gen5 x16', 'derived'."""
    if " datasheet" in source:
        return "datasheet"
    if source.startswith("nbody issue limit"):
        return "issue limit"
    return source.split(" link", 1)[0] if source.startswith("PCIe Gen") else "derived"


def ceiling_bars(results: Results, ceilings: dict[str, dict[str, float]] | None = None) -> list[tuple]:
    """(device, label, percent, detail, best published in percent or None) per row and named ceiling.
    gpudock's own benchmarks and the compiled CPU baseline; NumPy's reference loops and the second copy
    method are left out. A row attested in the run (its ``ceiling`` field: NVIDIA's datasheet, the nbody
    issue limit, the PCIe link) is drawn against that, fp32 nbody also against its FMA peak; an older file's
    rows against the ceilings derived from the device."""
    ceilings = ceilings if ceilings is not None else results.host.get("ceilings", {})
    bars = []
    for r in _measured(results):
        if r.name in ("nbody_numpy", "copy_d2d_kernel"):
            continue
        named = ceilings_for(r, ceilings.get(r.device, {}))
        if r.ceiling:
            named = [(_attested_label(r.ceiling_source), r.ceiling)] + [
                (n, c) for n, c in named if n == "FP32 FMA peak" and r.name == "nbody" and r.device.startswith("cuda:")
            ]
        for name, limit in named:
            label = f"{r.name.replace('_fastmath', ' fastmath')} {r.precision} · {_SHORT_CEILING.get(name, name)}"
            detail = f"{_fmt(r.value, r.metric)} of {_fmt(limit, r.metric)}"
            best = 100 * r.best_published / limit if r.best_published else None
            bars.append((_short(r.device), label, 100 * r.value / limit, detail, best))
    return bars


def fig_ceilings(results: Results, ceilings: dict[str, dict[str, float]] | None = None):
    """% of the device's own ceiling per benchmark, one panel per device; gpudock's fp32 nbody against
    both the issue limit (13 instructions per interaction) and the FMA peak, each named. Bars are
    percentages, so GB/s and GFLOP/s share one linear axis."""
    import matplotlib.pyplot as plt

    bars = ceiling_bars(results, ceilings)
    title = "(a) % of each device's own ceiling"
    if not bars:
        return _message(title, "no ceilings known for these results\n(ceilings need a known GPU or CPU clock)")
    devices = list(dict.fromkeys(b[0] for b in bars))
    counts = [sum(1 for b in bars if b[0] == d) for d in devices]
    with plt.rc_context(_FONT):
        fig, axes = plt.subplots(
            len(devices), 1, figsize=SLIDE, squeeze=False, gridspec_kw={"height_ratios": counts}, sharex=True
        )
    fig.suptitle(title, fontsize=18, x=0.01, ha="left")
    for ax, device in zip(axes[:, 0], devices, strict=True):
        mine = [b for b in bars if b[0] == device]
        y = list(range(len(mine)))[::-1]
        colors = [GREEN if device != "CPU" and not device.startswith("CPU ") else GREY for _ in mine]
        ax.barh(y, [min(b[2], 100) for b in mine], height=0.7, color=colors)
        for yi, (_, _, pct, detail, best) in zip(y, mine, strict=True):
            ax.text(min(pct, 100) + 1, yi, f"{pct:.0f} %  {detail}", va="center", fontsize=12)
            if best is not None:  # the best published figure, on the same scale
                ax.plot([min(best, 100)], [yi], marker="D", color=DARK, markersize=7, zorder=3)
        ax.set_yticks(y, [b[1] for b in mine], fontsize=12)
        ax.set_ylabel(device, fontsize=14)
        ax.axvline(100, color=DARK, linestyle="--", linewidth=1)
        ax.set_xlim(0, 150)
    axes[-1, 0].set_xticks([0, 25, 50, 75, 100])
    attested = any(r.ceiling for r in _measured(results))
    axes[-1, 0].set_xlabel(
        "% of the ceiling (datasheet peak, nbody issue limit or PCIe link); ◆ the best published figure"
        if attested  # a file written before attestation keeps its figure as it was
        else "% of the ceiling (peaks from clock x SMs or cores x lanes x 2; issue limit: 4 x 32 / 13 per SM-clock)"
    )
    return _done(fig)


# --- (b) ------------------------------------------------------------------------------------------


def fig_reference(results: Results):
    """gpudock's nbody against NVIDIA's nbody -benchmark at the same N, with the ratio printed."""
    found = pairs(results)
    title = "(b) gpudock's nbody against NVIDIA's own nbody sample (same N, same flop count)"
    if not found:
        return _message(
            title,
            "no NVIDIA reference for these results:\nrun `gpudock bench --nvidia-nbody PATH`, "
            "or measure on a GPU with a recorded anchor",
        )
    fig, ax = _figure(title)
    width = 0.38
    x = list(range(len(found)))
    ours = ax.bar([i - width / 2 for i in x], [p.gpudock for p in found], width, color=GREEN, label="gpudock")
    theirs = ax.bar([i + width / 2 for i in x], [p.nvidia for p in found], width, color=GREY)
    for bar, p in zip(ours, found, strict=True):
        ax.text(
            bar.get_x() + width / 2,
            bar.get_height(),
            f"{p.gpudock / 1000:,.1f}\n({p.ratio:.2f}×)",
            ha="center",
            va="bottom",
            fontsize=13,
        )
    for bar, p in zip(theirs, found, strict=True):
        ax.text(
            bar.get_x() + width / 2, bar.get_height(), f"{p.nvidia / 1000:,.1f}", ha="center", va="bottom", fontsize=13
        )
    measured = all(p.measured for p in found)
    source = "measured in the same run" if measured else found[0].source
    theirs.set_label(f"NVIDIA nbody -benchmark ({source})")
    ax.set_xticks(x, [f"{_short(p.device)} {p.precision}\nN = {p.size:,}" for p in found])
    ax.set_ylabel("TFLOP/s (20 flops per interaction fp32, 30 fp64)")
    ax.set_yticks(ax.get_yticks(), [f"{t / 1000:g}" for t in ax.get_yticks()])
    ax.set_ylim(0, max(max(p.gpudock, p.nvidia) for p in found) * 1.25)
    ax.legend(loc="upper right", fontsize=12)
    return _done(fig)


# --- (c) ------------------------------------------------------------------------------------------


def host_container_pairs(results: Results) -> list[tuple[Result, Result]]:
    host = {r.key: r for r in results.results if r.where == "host"}
    return [(host[r.key], r) for r in results.results if r.where == "container" and r.key in host]


def fig_host_container(results: Results):
    """The same benchmark on the host and in a container, paired: container / host as a bar from 1.0,
    the ratio printed, and each pair's measured spread as a grey band."""
    found = [(h, c) for h, c in host_container_pairs(results) if h.metric in ("GFLOP/s", "GB/s")]
    title = "(c) Host and container: container − host, % of host"
    if not found:
        return _message(
            title,
            "these results hold no host-and-container pair:\nrun `gpudock bench --json` on the host and in a "
            "container,\nthen merge the two files (benchmarks/merge_results.py)",
        )
    fig, ax = _figure(title)
    y = list(range(len(found)))[::-1]
    diffs = [100 * (c.value / h.value - 1) for h, c in found]
    for yi, (h, c) in zip(y, found, strict=True):
        band = 50 * (h.spread + c.spread)
        ax.barh(yi, 2 * band, left=-band, height=0.8, color="#dddddd", zorder=0)
    bands = [50 * (h.spread + c.spread) for h, c in found]  # the same test as `bench compare`
    beyond = [abs(d) > band for d, band in zip(diffs, bands, strict=True)]
    ax.barh(y, diffs, height=0.5, color=GREEN, zorder=2)  # the direction is the bar's side, not its colour
    limit = max(5.0, max(abs(d) for d in diffs) * 1.2)
    for yi, (h, c), out in zip(y, found, beyond, strict=True):
        text = f"{c.value / h.value:.3f}{'  beyond spread' if out else ''}"
        ax.text(limit * 1.03, yi, text, va="center", fontsize=11)
    ax.set_yticks(y, [f"{h.name} {h.precision}" for h, _ in found], fontsize=max(8, min(12, 200 // len(found))))
    ax.set_xlim(-limit, limit)
    ax.axvline(0, color=DARK, linewidth=1)
    ax.set_xlabel("container − host, % of host (grey band: the two runs' spread); container / host on the right")
    fig.tight_layout()
    fig.subplots_adjust(right=0.72)
    return _done(fig, tight=False)


# --- (d) ------------------------------------------------------------------------------------------

COMPILED_CPU = {"nbody": ("nbody", "nbody_fastmath"), "gemm": ("gemm",), "copy": ("copy",)}
GPU_NAME = {"nbody": "nbody", "gemm": "gemm", "copy": "copy_d2d"}


def gpu_vs_cpu(results: Results) -> list[tuple[str, Result, Result]]:
    """(label, GPU row, compiled CPU row) per benchmark and precision; the CPU side is the faster of the
    compiled variants (numba strict or fastmath; BLAS for GEMM; numba for copy), never NumPy's loops."""
    rows = _measured(results)
    gpus = [r for r in rows if r.device.startswith("cuda:")]
    cpus = [r for r in rows if not r.device.startswith("cuda:")]
    out = []
    for bench, names in COMPILED_CPU.items():
        for g in (r for r in gpus if r.name == GPU_NAME[bench]):
            candidates = [c for c in cpus if c.name in names and c.precision == g.precision]
            if candidates:
                best = max(candidates, key=lambda c: c.value)
                out.append((f"{bench} {g.precision}", g, best))
    return out


def fig_gpu_vs_cpu(results: Results):
    """GPU against the compiled CPU baseline, log axis, values and the ratio printed."""
    found = gpu_vs_cpu(results)
    title = "(d) GPU against the compiled CPU baseline (numba, BLAS), not against NumPy"
    if not found:
        return _message(title, "these results need both a GPU and the compiled CPU baseline")
    fig, ax = _figure(title)
    width = 0.38
    x = list(range(len(found)))
    g_bars = ax.bar(
        [i - width / 2 for i in x], [g.value for _, g, _ in found], width, color=GREEN, label=_short(found[0][1].device)
    )
    c_bars = ax.bar(
        [i + width / 2 for i in x], [c.value for _, _, c in found], width, color=GREY, label=_short(found[0][2].device)
    )
    ax.set_yscale("log")
    for bar, (_, g, c) in zip(g_bars, found, strict=True):
        ax.text(
            bar.get_x() + width / 2,
            bar.get_height() * 1.1,
            f"{_fmt(g.value, g.metric)}\n{g.value / c.value:,.0f}×",
            ha="center",
            va="bottom",
            fontsize=12,
        )
    for bar, (_, _, c) in zip(c_bars, found, strict=True):
        kind = "fastmath" if c.name.endswith("fastmath") else ("BLAS" if c.name == "gemm" else "numba")
        ax.text(
            bar.get_x() + width / 2,
            bar.get_height() * 1.1,
            f"{_fmt(c.value, c.metric)}\n({kind})",
            ha="center",
            va="bottom",
            fontsize=11,
        )
    ax.set_xticks(x, [label for label, _, _ in found])
    top = max(g.value for _, g, _ in found)
    ax.set_ylim(min(c.value for _, _, c in found) / 3, top * 20)
    ax.set_ylabel("GFLOP/s or GB/s (log scale)")
    ax.legend(loc="upper right", fontsize=12)
    return _done(fig)


def figures(results: Results) -> dict:
    """All four, keyed 'a'..'d'."""
    return {
        "a": fig_ceilings(results),
        "b": fig_reference(results),
        "c": fig_host_container(results),
        "d": fig_gpu_vs_cpu(results),
    }

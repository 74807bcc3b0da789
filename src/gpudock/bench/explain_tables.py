"""Tables that explain the figures: each GPU row against its ceiling and the best published figure (with the
clocks it ran at), gpudock's GEMM against torch.matmul measured in alternating rounds, why a figure is low,
and the host facts behind them. Every cell is escaped (printable): file contents are untrusted."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from ..textsafety import printable
from .labels import device_label, device_labels, table_of
from .results import Results
from .whylow import sharing

WITHIN = 0.02  # gpudock's GEMM and torch.matmul agree when their interleaved ratio is within 2 %


def _short_source(source: str) -> str:
    """'NVIDIA H100 SXM datasheet, FP32 FMA peak: https://…' -> 'H100 SXM datasheet'."""
    if source.startswith("NVIDIA ") and " datasheet" in source:
        return source[len("NVIDIA ") : source.index(" datasheet") + len(" datasheet")]
    if source.startswith("nbody issue limit"):
        return "issue limit"
    if source.startswith("PCIe Gen"):
        return source.split(" link", 1)[0]
    if source.startswith("derived"):
        return "derived"
    return source[:24]


def _clock(row) -> str:
    tel = row.telemetry or {}
    sm, top = tel.get("sm_clock_mhz") or {}, tel.get("sm_clock_max_mhz")
    if not sm:
        return ""
    power = (tel.get("power_w") or {}).get("median")
    text = f"{sm['median']:,.0f}/{top:,.0f}" if top else f"{sm['median']:,.0f}"
    return text + (f" {power:,.0f} W" if power is not None else "")


def attestation_table(results: Results) -> Table | None:
    """Per GPU row: value, ceiling and its source, % of it, best published and % of it, SM clock / power."""
    rows = [r for r in results.results if r.ceiling and r.device.startswith("cuda:")]
    if not rows:
        return None
    labels = device_labels(results)
    table = table_of(
        "Against the ceiling and the best published figure (SM clock median/max MHz, power median)",
        [("dev", False), ("benchmark", False), ("prec", False), ("value", True), ("ceiling", True), ("%", True),
         ("of", False), ("published", True), ("%", True), ("clock", True)],
    )  # fmt: skip
    for r in rows:
        published = f"{r.best_published:,.0f}" if r.best_published else "–"
        share = f"{100 * r.value / r.best_published:.0f} %" if r.best_published else ""
        table.add_row(
            Text(labels.get(r.device, device_label(r.device))),
            Text(printable(r.name) + (" (ref)" if r.where == "reference" else "")),
            Text(printable(r.precision)),
            f"{r.value:,.0f}",
            f"{r.ceiling:,.0f}",
            f"{100 * r.fraction_of_ceiling:.0f} %",
            Text(printable(_short_source(r.ceiling_source))),
            published,
            share,
            _clock(r),
        )
    return table


def gemm_reference_table(results: Results) -> Table | None:
    """gpudock's GEMM against torch.matmul, measured in alternating rounds on the same operands."""
    rows = [r for r in results.results if r.name == "gemm" and r.vs_reference and r.where != "reference"]
    if not rows:
        return None
    labels = device_labels(results)
    table = table_of(
        "GEMM: gpudock (cuBLAS via CuPy) against torch.matmul, alternating rounds, same operands",
        [("dev", False), ("prec", False), ("size", True), ("gpudock", True), ("torch", True), ("ratio", True),
         ("±", True), ("rounds", True), ("verdict", False)],
    )  # fmt: skip
    refs = {(r.device, r.precision, r.size): r for r in results.results if r.name == "gemm" and r.where == "reference"}
    for r in rows:
        ref, vs = refs.get((r.device, r.precision, r.size)), r.vs_reference
        ratio = vs.get("ratio") if isinstance(vs.get("ratio"), (int, float)) else float("nan")
        unc = vs.get("median_uncertainty")
        verdict = f"within {100 * WITHIN:.0f} %" if abs(ratio - 1) <= WITHIN else f"beyond {100 * WITHIN:.0f} %"
        if sharing(r.telemetry or {}):
            verdict = "not comparable: shared GPU"  # time-slicing with another process favours either side
        table.add_row(
            Text(labels.get(r.device, device_label(r.device))),
            Text(printable(r.precision)),
            f"{r.size}³",
            f"{r.value:,.0f}",
            f"{ref.value:,.0f}" if ref else "?",
            f"{ratio:.3f}",
            f"{100 * unc:.1f} %" if isinstance(unc, (int, float)) else "",
            str(vs.get("rounds", "")),
            Text(verdict),
        )
    return table


def why_low_table(results: Results) -> Table | None:
    """Each low or noisy row: the cause, the evidence gpudock read, and the fix."""
    rows = [(r, v) for r in results.results for v in r.why_low]
    if not rows:
        return None
    labels = device_labels(results)
    table = table_of(
        "Why low: the evidence and the fix",
        [("dev", False), ("benchmark", False), ("cause", False), ("evidence", False), ("fix", False)],
    )
    for r, v in rows:
        table.add_row(
            Text(labels.get(r.device, device_label(r.device))),
            Text(f"{printable(r.name)} {printable(r.precision)}" + (" (ref)" if r.where == "reference" else "")),
            Text(printable(v.get("cause", ""))),
            Text(printable(v.get("evidence", ""))),
            Text(printable(v.get("fix", ""))),
        )
    return table


def _facts_line(host: dict, label: str) -> list[str]:
    pcie = host.get("pcie", {}).get(label, {})
    throttle = host.get("throttle", {}).get(label, {})
    numa = host.get("numa", {}).get(label, {})
    state = host.get("gpu_state", {}).get(label, {})
    gen = lambda a, b: f"Gen{pcie[a]:.0f} x{pcie[b]:.0f}" if pcie.get(a) and pcie.get(b) else "?"  # noqa: E731
    limit = throttle.get("power_limit_w")
    seen = throttle.get("reasons_during_run") or {}
    reasons = ", ".join(f"{k} {100 * v:.0f} %" for k, v in seen.items() if k != "gpu_idle") or "none"
    others = [p for p in state.get("processes_at_start") or [] if isinstance(p, dict)]
    local = {True: "local", False: "REMOTE", None: "n/a"}.get(numa.get("local"), "n/a")
    return [
        f"{gen('gen_current', 'width_current')} (max {gen('gen_max', 'width_max')})",
        f"{limit:,.0f} W" if isinstance(limit, (int, float)) else "?",
        reasons,
        f"node {numa.get('gpu_node')} {local}" if numa else "?",
        " ".join(f"{k[:3]}={state.get(k)}" for k in ("persistence_mode", "ecc_mode", "mig_mode")),
        str(len(others)),
    ]


def host_facts_table(results: Results) -> Table | None:
    """Per GPU: PCIe link, power limit, clock-event reasons seen, NUMA placement, modes, processes at start."""
    host = results.host
    labels = [g.get("label") for g in host.get("gpus", []) if isinstance(g, dict)]
    labels = [label for label in labels if isinstance(label, str) and label in host.get("pcie", {})]
    if not labels:
        return None
    table = table_of(
        f"Host facts ({printable(str(host.get('facts_source', '')))})",
        [("dev", False), ("PCIe now (max)", False), ("power", True), ("clock limits seen", False), ("NUMA", False),
         ("modes", False), ("procs", True)],
    )  # fmt: skip
    for label in labels:
        table.add_row(Text(device_label(label)), *(Text(printable(cell)) for cell in _facts_line(host, label)))
    return table

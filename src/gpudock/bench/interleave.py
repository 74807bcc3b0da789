"""Comparisons that survive drift: gpudock's measurement and a reference's (PyTorch's torch.matmul, NVIDIA's
nbody) taken in alternating rounds, so that the GPU's clock and power drift falls on both alike.

Round i takes one sample of each side, A then B on even rounds and B then A on odd ones (A B B A A B ...): a
drift that is linear in time then cancels over each pair of rounds, where plain A B A B would always give B
the later, hotter slot. The ratio of each round's pair is what a comparison reports (its median, spread and
uncertainty); more rounds are taken while that median is uncertain beyond the target (timing.needs_more).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

from .timing import median_uncertainty, needs_more


@dataclass
class Paired:
    """Rates (higher is faster) of sides A and B, one of each per round."""

    a: list[float]
    b: list[float]

    @property
    def ratios(self) -> list[float]:
        return [x / y for x, y in zip(self.a, self.b, strict=True) if y > 0]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios) if self.ratios else float("nan")

    @property
    def spread(self) -> float:
        r = self.ratios
        return (max(r) - min(r)) / self.ratio if r and self.ratio > 0 else 0.0

    @property
    def uncertainty(self) -> float:
        return median_uncertainty(self.ratios)

    def to_dict(self, program: str) -> dict:
        return {
            "program": program,
            "ratio": self.ratio,
            "rounds": len(self.ratios),
            "spread": self.spread,
            "median_uncertainty": self.uncertainty if self.uncertainty != float("inf") else None,
            "order": "alternating A B / B A rounds",
        }


def interleave(
    a: Callable[[], float], b: Callable[[], float], rounds: int, max_rounds: int = 0, target: float = 0.0
) -> Paired:
    """Alternate samples of ``a`` and ``b`` (each returns a rate): ``rounds`` rounds, then more while the
    median ratio is uncertain beyond ``target``, up to ``max_rounds``."""
    out = Paired([], [])

    def one_round() -> None:
        if len(out.a) % 2 == 0:
            out.a.append(a())
            out.b.append(b())
        else:
            out.b.append(b())
            out.a.append(a())

    for _ in range(max(1, rounds)):
        one_round()
    while target and max_rounds and needs_more(out.ratios, target, max_rounds):
        one_round()
    return out

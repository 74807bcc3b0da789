"""Golden plans: `python -m tests.install.golden` rewrites tests/data/plans/ from the current planners."""

from __future__ import annotations

from gpudock.facts.host import host_info
from gpudock.install import PlanRefused, make_plan
from tests.helpers import DATA
from tests.install.hosts import KINDS, OS_RELEASE, host_snapshot

GOLDEN = DATA / "plans"
VARIANTS = {
    "driver": {},
    "driver-open-580": {"open_modules": True, "branch": "580"},
    "driver-proprietary": {"modules": "proprietary"},
    "docker": {},
    "docker-ce": {"source": "docker-ce"},
    "toolkit": {},
    "toolkit-cdi": {"cdi": True},
    "all": {},
}


def render(distro: str, kind: str, variant: str) -> str:
    snap = host_snapshot(distro, kind)
    step = variant.split("-")[0]
    try:
        return make_plan(step, snap, host_info(snap), **VARIANTS[variant]).to_sh()
    except PlanRefused as refused:
        return f"REFUSED: {refused}\n"


def cases():
    for distro in OS_RELEASE:
        for kind in KINDS:
            for variant in VARIANTS:
                yield distro, kind, variant, GOLDEN / f"{distro}-{kind}-{variant}.sh"


if __name__ == "__main__":
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for distro, kind, variant, path in cases():
        path.write_text(render(distro, kind, variant))
    print(f"wrote {len(list(cases()))} golden plans to {GOLDEN}")

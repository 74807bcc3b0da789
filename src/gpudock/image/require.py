"""The NVIDIA Container Toolkit's requirement check, evaluated here before a container starts.

Mirrors the toolkit: every ``NVIDIA_REQUIRE_*`` variable but ``NVIDIA_REQUIRE_JETPACK*`` is a requirement,
``NVIDIA_DISABLE_REQUIRE`` (a true boolean) turns them all off, and an image with ``CUDA_VERSION`` but no
``NVIDIA_REQUIRE_CUDA`` requires ``cuda>=MAJOR.MINOR`` (nvidia-container-toolkit,
internal/config/image/cuda_image.go). In one requirement, space-separated clauses are ORed and
comma-separated conditions ANDed; versions compare number by number (libnvidia-container, src/cli/dsl.c).
A condition gpudock cannot decide (the GPU's brand) is None: the whole result may then be None.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_CONDITION = re.compile(r"^([a-z]+)(<=|>=|!=|=|<|>)(.+)$", re.I)
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}


def requirements(env: Mapping[str, str]) -> list[str]:
    if env.get("NVIDIA_DISABLE_REQUIRE", "") in _TRUE:
        return []
    found = [
        value
        for name, value in sorted(env.items())
        if name.startswith("NVIDIA_REQUIRE_") and not name.startswith("NVIDIA_REQUIRE_JETPACK") and value.strip()
    ]
    legacy = re.match(r"^v?(\d+)\.(\d+)", env.get("CUDA_VERSION", ""))
    if legacy and not env.get("NVIDIA_REQUIRE_CUDA"):
        found.append(f"cuda>={int(legacy[1])}.{int(legacy[2])}")
    return found


def compare_versions(have: str, op: str, want: str) -> bool | None:
    try:
        a = [int(p) for p in have.split(".") if p != ""]
        b = [int(p) for p in want.split(".") if p != ""]
    except ValueError:
        return None
    width = max(len(a), len(b))
    a, b = a + [0] * (width - len(a)), b + [0] * (width - len(b))
    return {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _condition(text: str, facts: Mapping[str, str | None]) -> bool | None:
    match = _CONDITION.match(text)
    if not match:
        return None
    name, op, value = match[1].lower(), match[2], match[3]
    have = facts.get(name)
    if have is None:
        return None
    if name == "brand":
        return (have.lower() == value.lower()) if op == "=" else (have.lower() != value.lower()) if op == "!=" else None
    return compare_versions(have, op, value)


def evaluate(requirement: str, facts: Mapping[str, str | None]) -> bool | None:
    """True, False, or None (undecidable here). ``facts``: cuda, driver, arch (e.g. '9.0'), brand."""
    verdict: bool | None = False
    for clause in requirement.split(" "):
        if not clause:
            continue
        result: bool | None = True
        for condition in clause.split(","):
            if not condition:
                continue
            value = _condition(condition, facts)
            if value is False:
                result = False
                break
            if value is None:
                result = None
        if result is True:
            return True
        if result is None:
            verdict = None
    return verdict

"""docs/contracts.md and the code agree: exit codes, finding codes, probe names, results keys."""

import re

from gpudock import probe
from gpudock.bench.results import ADDITIVE_KEYS, RESULT_KEYS
from gpudock.diagnose import codes
from gpudock.exitcodes import ExitCode
from tests.helpers import DATA, ROOT

CONTRACTS = (ROOT / "docs" / "contracts.md").read_text(encoding="utf-8")


def test_every_exit_code_is_documented_with_its_number():
    section = CONTRACTS.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    documented = {int(n) for n in re.findall(r"(?:^|·)\s*(\d+)\s", section, re.M)}
    assert documented == {int(code) for code in ExitCode}


def test_every_finding_code_the_rules_know_is_documented():
    table_codes = set(re.findall(r"^\| ([a-z0-9-]+) \| (?:error|warning|info|ok) \|", CONTRACTS, re.M))
    contract_list = set(DATA.joinpath("finding-codes.txt").read_text().split())
    assert contract_list <= table_codes
    for code in codes():
        assert f"`{code}`" in CONTRACTS or code in table_codes, f"{code} is emitted but not in docs/contracts.md"


def test_every_probe_name_is_in_the_probe_table():
    names = {p.name for p in probe.probes(gpu_image="img")}
    table = set(re.findall(r"^\| ([a-z_]+) \| `", CONTRACTS, re.M))
    assert names <= table, names - table


def test_results_keys_are_the_documented_ones():
    for key in RESULT_KEYS + ADDITIVE_KEYS:
        assert f"`{key}`" in CONTRACTS or f'"{key}"' in CONTRACTS, key

"""Record the fleet run notebook 07 replays: `python -m tests.fleet.make_replay` (root, Docker, Ansible).

Starts the SSH test lab, runs `gpudock fleet doctor` over it and `gpudock fleet bench` on its two
reachable hosts, and keeps what a replay needs in src/gpudock/data/fleet-replay/: fleet.json,
snapshots/, results/ (not Ansible's artifacts, not the wheels).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from gpudock.fleet.bench import fleet_bench
from gpudock.fleet.doctor import fleet_doctor
from gpudock.fleet.engine import read_inventory
from gpudock.fleet.tutorial import REPLAY
from tests.fleet.sshhosts import Fleet, start_lab


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="gpudock-replay-") as tmp:
        fleet = Fleet(Path(tmp) / "lab")
        try:
            start_lab(fleet)
            inventory = fleet.inventory()
            doctor_dir, bench_dir = Path(tmp) / "doctor", Path(tmp) / "bench"
            doctor_dir.mkdir()
            bench_dir.mkdir()
            fleet_doctor(read_inventory(inventory), doctor_dir)
            bench = fleet_bench(read_inventory(inventory, "h200,nodocker"), bench_dir, say=lambda line: None)
        finally:
            fleet.stop()
        if not bench.ok:
            print("fleet bench failed: " + "; ".join(str(h.error) for h in bench.hosts), file=sys.stderr)
            return 1
        shutil.rmtree(REPLAY, ignore_errors=True)
        (REPLAY / "results").mkdir(parents=True)
        shutil.copytree(doctor_dir / "snapshots", REPLAY / "snapshots")
        doc = json.loads((doctor_dir / "fleet.json").read_text())
        doc["summary"]["run_dir"] = "fleet-replay"
        (REPLAY / "fleet.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        for path in sorted((bench_dir / "results").glob("*.json")):
            shutil.copy(path, REPLAY / "results" / path.name)
    print(f"fleet replay written to {REPLAY}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

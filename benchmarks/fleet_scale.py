"""How `gpudock fleet doctor` scales with hosts and forks (Ansible's parallelism).

    python3 benchmarks/fleet_scale.py [--hosts 50] [--forks 5,10,25] [--json FILE]

The inventory is HOSTS entries with ``ansible_connection=local``: every "host" is this machine, so
the figure is Ansible's fan-out and gpudock's per-host cost (module transfer, the whole probe table,
diagnosis, saving the snapshot) without network latency. Over SSH add the connection set-up per host
(ControlPersist reuses it within a run). Prints wall time, hosts per second and the wall time per
host, and the peak memory of the controller (this process and ansible-playbook's).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from gpudock.fleet.doctor import fleet_doctor


def inventory(folder: Path, hosts: int) -> Path:
    path = folder / "inventory.ini"
    lines = ["[scale]"] + [f"host{n:04d}" for n in range(1, hosts + 1)]
    lines += ["[scale:vars]", "ansible_connection=local", f"ansible_python_interpreter={sys.executable}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--forks", default="5,10,25")
    parser.add_argument("--json", metavar="FILE", help="also write the figures here")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="gpudock-fleet-scale-") as tmp:
        inv = inventory(Path(tmp), args.hosts)
        for forks in [int(f) for f in args.forks.split(",")]:
            run_dir = Path(tmp) / f"forks-{forks}"
            run_dir.mkdir()
            start = time.perf_counter()
            report = fleet_doctor(inv, run_dir, forks=forks)
            wall = time.perf_counter() - start
            probed = sum(1 for row in report.rows if row.snapshot is not None)
            doc_bytes = (run_dir / "fleet.json").stat().st_size
            snap_bytes = sum(p.stat().st_size for p in (run_dir / "snapshots").glob("*.json"))
            rows.append(
                {
                    "hosts": len(report.rows),
                    "probed": probed,
                    "forks": forks,
                    "wall_s": round(wall, 2),
                    "hosts_per_s": round(len(report.rows) / wall, 2),
                    "wall_per_host_s": round(wall / len(report.rows), 3),
                    "fleet_json_bytes": doc_bytes,
                    "snapshot_bytes_per_host": snap_bytes // max(probed, 1),
                }
            )
            print(
                f"{len(report.rows)} hosts ({probed} probed), forks {forks:>2}: {wall:6.1f} s wall, "
                f"{len(report.rows) / wall:5.2f} hosts/s, {wall / len(report.rows):.2f} s per host; "
                f"fleet.json {doc_bytes / 1024:.0f} KiB, snapshot {snap_bytes // max(probed, 1) / 1024:.0f} KiB/host",
                flush=True,
            )
    peak = {
        "controller_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "children_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
    }
    print(f"peak RSS: gpudock {peak['controller_peak_rss_mib']} MiB, largest child {peak['children_peak_rss_mib']} MiB")
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": rows, **peak}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

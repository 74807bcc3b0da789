"""Container against host, with the host measured before and after the container run.

    python3 benchmarks/host_vs_container.py HOST_BEFORE.json CONTAINER.json HOST_AFTER.json

A power-capped GPU drifts by a few per cent within a minute, so each container figure is set
against the mean of the two host runs that bracket it.
"""

import sys

from gpudock.bench.results import Results

before, container, after = (Results.load(p) for p in sys.argv[1:4])
hosts = {r.key: [r.value] for r in before.results}
for r in after.results:
    hosts.setdefault(r.key, []).append(r.value)
print(f"{'benchmark':16} {'precision':9} {'host (mean of 2)':>18} {'container':>12} {'ratio':>7}  host drift")
for r in container.results:
    values = hosts.get(r.key)
    if not values:
        continue
    mean = sum(values) / len(values)
    drift = (max(values) - min(values)) / mean
    print(f"{r.name:16} {r.precision:9} {mean:18,.1f} {r.value:12,.1f} {r.value / mean:7.3f}  {100 * drift:.1f} %")

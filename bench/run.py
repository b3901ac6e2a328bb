"""The one bench command: python -m bench.run [--quick] [--only S1,S3] runs issue 6's scenarios on
the production topology.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import time
import traceback

from bench import loadgen
from bench.report import Row, table, write
from bench.topology import Ctx, Topology

# Run order: ingest first (no workers), then idle latency, then the fan-outs, then live.
SCENARIOS = {
    "S1": "s1_ingest",
    "S5": "s5_latency",
    "S2": "s2_expo",
    "S6": "s6_people",
    "S3": "s3_webpush",
    "S4": "s4_live",
    "S7": "s7_fcm",
    "S8": "s8_apns",
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    p.add_argument(
        "--quick", action="store_true", help="smaller sizes and shorter runs (< 2 minutes)"
    )
    p.add_argument("--only", default="", help="comma-separated scenarios, e.g. S1,S3")
    args = p.parse_args(argv)
    wanted = [s.strip().upper() for s in args.only.split(",") if s.strip()] or list(SCENARIOS)
    unknown = set(wanted) - set(SCENARIOS)
    if unknown:
        p.error(
            f"unknown scenario(s) {sorted(unknown)}; choose from {', '.join(sorted(SCENARIOS))}"
        )
    if "S1" in wanted:
        print(f"S1 load generator: {loadgen.generator()}", flush=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    started = time.monotonic()
    rows: list[Row] = []
    details: dict = {}
    failed = False
    # A run stopped from outside (`timeout`, a CI job's cancel) still stops its processes and
    # drops its database on the way out: left behind, each topology's API, worker and sandbox kept
    # their PostgreSQL connections, and a few of them exhausted max_connections.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with Topology() as topo:
        ctx = Ctx(topo, args.quick)
        for name, module in SCENARIOS.items():
            if name not in wanted:
                continue
            print(f"== {name} ({module}) ...", flush=True)
            t = time.monotonic()
            try:
                got, info = importlib.import_module(f"bench.{module}").run(ctx)
            except Exception as exc:  # noqa: BLE001 - one broken scenario must not hide the others
                failed = True
                traceback.print_exc()
                details[name] = {
                    "error": repr(exc),
                    "logs": {n: pr.log()[-2000:] for n, pr in topo.procs.items()},
                }
                continue
            rows += got
            details[name] = {**info, "seconds": round(time.monotonic() - t, 1)}
            print(table(got), flush=True)
    details["total_seconds"] = round(time.monotonic() - started, 1)
    print(f"\nBooper bench ({'quick' if args.quick else 'full'}), {details['total_seconds']} s\n")
    print(table(rows))
    path, png = write(stamp, rows, details, args.quick)
    print(f"\nresults: {path}\nchart:   {png}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

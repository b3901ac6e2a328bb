"""CPU spent by the service on a measured step: the worker's process tree and the PostgreSQL
backends serving the bench database. Unlike a rate, CPU per delivery barely moves when other
processes share the box, so it is what compares two builds on a busy machine."""

from __future__ import annotations

import psutil

from bench.topology import Topology


def _postgres_backends(db_name: str) -> list[psutil.Process]:
    found = []
    for p in psutil.process_iter(["name", "cmdline"]):
        try:
            if p.info["name"] == "postgres" and db_name in " ".join(p.info["cmdline"] or ()):
                found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found


def _seconds(procs: list[psutil.Process]) -> dict[int, float]:
    spent = {}
    for p in procs:
        try:
            t = p.cpu_times()
            spent[p.pid] = t.user + t.system
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return spent


class CpuMeter:
    """meter = CpuMeter(topo); ...; meter.stop() -> {"worker": s, "postgres": s} spent since
    (`processes`: the topology's processes to measure besides PostgreSQL, e.g. the sandbox)."""

    def __init__(self, topo: Topology, processes: tuple[str, ...] = ("worker",)) -> None:
        self.topo, self.names = topo, (*processes, "postgres")
        self.before = self._sample()

    def _sample(self) -> list[dict[int, float]]:
        return [_seconds(self.topo.procs[name].tree()) for name in self.names[:-1]] + [
            _seconds(_postgres_backends(self.topo.db_name))
        ]

    def stop(self) -> dict[str, float]:
        after = self._sample()
        # A backend or process started meanwhile counts from zero; one that ended is lost (the
        # pools keep theirs open for the whole run).
        return {
            name: sum(t - before.get(pid, 0.0) for pid, t in now.items())
            for name, before, now in zip(self.names, self.before, after, strict=True)
        }

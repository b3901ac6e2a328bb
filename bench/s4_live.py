"""S4 live: N graphql-transport-ws subscribers on one public channel, one notification; time until
all have it, and server memory per connection.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
import time

import httpx

from bench.report import Row
from bench.topology import ROOT, Ctx, Process, free_port


def _line(proc: subprocess.Popen, prefix: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(
                    f"ws client exited ({proc.wait()}): {proc.stderr.read()[-2000:]}"
                )
            if line.startswith(prefix):
                return line[len(prefix) :].strip()
    raise RuntimeError(f"ws client: no {prefix!r} in {timeout}s")


def measure(server: Process, ws_url: str, n: int, trigger) -> dict:
    """Connect n subscribers from a separate process, then trigger one event and time its arrival."""
    rss_before = server.rss()
    client = subprocess.Popen(
        [sys.executable, "-m", "bench.wsclient", "--url", ws_url, "--n", str(n)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        t_connect = time.monotonic()
        _line(client, "READY", timeout=60 + n / 50)
        connect_s = time.monotonic() - t_connect
        time.sleep(1.5)  # let the last subscriptions register on the server
        rss_after = server.rss()
        t0 = trigger()
        result = json.loads(_line(client, "RESULT ", timeout=60))
        client.wait(30)
    finally:
        if client.poll() is None:
            client.kill()
    if result["received"] < n:
        raise RuntimeError(f"only {result['received']}/{n} subscribers got the event")
    return {
        "n": n,
        "seconds": result["last"] - t0,
        "connect_seconds": connect_s,
        "kib_per_connection": (rss_after - rss_before) / n / 1024,
        "rss_before_mib": rss_before / 2**20,
        "rss_after_mib": rss_after / 2**20,
        "sample": result["sample"],
    }


def run(ctx: Ctx) -> tuple[list[Row], dict]:
    topo = ctx.topo
    n = 2_000 if ctx.quick else 10_000
    ctx.send("bench", "creates the public channel", auth=False)

    def send() -> float:
        t0 = time.time()
        ctx.send("bench", "live bench", auth=False)
        return t0

    ws_url = topo.url.replace("http://", "ws://")
    booper = measure(topo.procs["serve"], ws_url, n, send)

    port = free_port()
    bare_proc = topo.uvicorn("bare-ws", "bench.baseline_ws:create", port)
    try:

        def publish() -> float:
            t0 = time.time()
            httpx.post(
                f"http://127.0.0.1:{port}/publish", content=booper["sample"].encode(), timeout=60
            )
            return t0

        bare = measure(bare_proc, f"ws://127.0.0.1:{port}/ws", n, publish)
    finally:
        topo.stop("bare-ws")
    rows = [
        Row(
            "S4",
            f"all {n:,} subscribers have it",
            booper["seconds"] * 1000,
            "ms",
            bare["seconds"] * 1000,
            "bare Litestar broadcast",
            "< 1,000 ms",
            booper["seconds"] < 1,
            False,
        ),
        Row(
            "S4",
            "server memory per connection",
            booper["kib_per_connection"],
            "KiB",
            bare["kib_per_connection"],
            "bare",
            "<= 100 KiB",
            booper["kib_per_connection"] <= 100,
            False,
        ),
    ]
    return rows, {
        "booper": booper,
        "bare": bare,
        "client": "websockets (permessage-deflate offered, as "
        "browsers do), 100 connections per asyncio task",
    }

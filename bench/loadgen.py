"""HTTP load for S1: wrk with a generated Lua script, or (no wrk) an aiohttp generator in its own process."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

LUA = """wrk.method = "POST"
wrk.body = [==[{body}]==]
wrk.headers["Content-Type"] = "application/json"
{auth}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH_JSON {{"requests": %d, "duration_s": %f, "p50_ms": %f, "p99_ms": %f, '
    .. '"errors": %d, "non_2xx": %d}}\\n', summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""
INSTALL_HINT = "install wrk for the reference load generator: apt-get install -y wrk"


def generator() -> str:
    return "wrk" if shutil.which("wrk") else "aiohttp (fallback; " + INSTALL_HINT + ")"


def run(url: str, body: dict, auth: str | None, duration: float, conns: int, workdir: Path) -> dict:
    """Returns requests, duration_s, p50_ms, p99_ms, errors, non_2xx, generator."""
    payload = json.dumps(body)
    if shutil.which("wrk"):
        script = workdir / "post.lua"
        header = f'wrk.headers["Authorization"] = "Bearer {auth}"' if auth else ""
        script.write_text(LUA.format(body=payload, auth=header))
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{conns}",
                f"-d{int(duration)}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        line = next(ln for ln in out.splitlines() if ln.startswith("BENCH_JSON "))
        result = json.loads(line.removeprefix("BENCH_JSON "))
    else:
        cmd = [
            sys.executable,
            "-m",
            "bench.loadgen",
            "--url",
            url,
            "--body",
            payload,
            "--duration",
            str(duration),
            "--conns",
            str(conns),
        ] + (["--auth", auth] if auth else [])
        out = subprocess.run(
            cmd, capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1]
        ).stdout
        result = json.loads(out.strip().splitlines()[-1])
    result["generator"] = generator()
    return result


async def _fallback(url: str, body: str, auth: str | None, duration: float, conns: int) -> dict:
    import aiohttp

    headers = {"content-type": "application/json"} | (
        {"authorization": f"Bearer {auth}"} if auth else {}
    )
    latencies: list[float] = []
    errors = non_2xx = 0
    deadline = time.perf_counter() + duration

    async def loop(session: aiohttp.ClientSession) -> None:
        nonlocal errors, non_2xx
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=headers) as r:
                    await r.read()
                    non_2xx += r.status >= 300
            except aiohttp.ClientError:
                errors += 1
                continue
            latencies.append(time.perf_counter() - t)

    start = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=conns)) as session:
        await asyncio.gather(*(loop(session) for _ in range(conns)))
    latencies.sort()
    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else 0.0

    return {
        "requests": len(latencies),
        "duration_s": time.perf_counter() - start,
        "p50_ms": pct(0.5),
        "p99_ms": pct(0.99),
        "errors": errors,
        "non_2xx": non_2xx,
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--body", required=True)
    p.add_argument("--auth")
    p.add_argument("--duration", type=float, default=10)
    p.add_argument("--conns", type=int, default=32)
    a = p.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    print(json.dumps(asyncio.run(_fallback(a.url, a.body, a.auth, a.duration, a.conns))))


if __name__ == "__main__":
    main()

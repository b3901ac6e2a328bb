"""S4's client side, in its own process: N graphql-transport-ws subscribers, many per asyncio task;
prints READY, then RESULT json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from websockets.asyncio.client import connect

GROUP = 100  # connections per asyncio task
QUERY = 'subscription { notifications(channel: "bench") { id title body data priority createdAt } }'


async def _open(url: str, sem: asyncio.Semaphore):
    async with sem:
        ws = await connect(
            url,
            subprotocols=["graphql-transport-ws"],
            ping_interval=None,
            max_size=2**20,
            open_timeout=60,
        )
        await ws.send('{"type": "connection_init", "payload": {}}')
        ack = json.loads(await ws.recv())
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"no connection_ack: {ack}")
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": QUERY}}))
        return ws


async def _group(
    url: str, size: int, sem: asyncio.Semaphore, ready: asyncio.Event, out: dict
) -> None:
    conns = [await _open(url, sem) for _ in range(size)]
    out["open"] += len(conns)
    await ready.wait()
    last = 0.0
    for ws in (
        conns
    ):  # messages queue up per connection; the last recv returns at the group's last arrival
        while True:
            raw = await ws.recv()
            msg = json.loads(raw)
            if msg.get("type") == "ping":
                await ws.send('{"type": "pong"}')
                continue
            if msg.get("type") != "next":
                raise RuntimeError(f"unexpected message: {raw[:300]}")
            out["sample"] = out["sample"] or raw
            break
        last = time.time()
        out["received"] += 1
    out["last"] = max(out["last"], last)
    out["conns"].extend(conns)


async def main_async(url: str, n: int, timeout: float) -> None:
    out = {"open": 0, "received": 0, "last": 0.0, "sample": None, "conns": []}
    ready = asyncio.Event()
    sem = asyncio.Semaphore(64)  # handshakes in flight
    tasks = [
        asyncio.create_task(_group(url, min(GROUP, n - i), sem, ready, out))
        for i in range(0, n, GROUP)
    ]
    while out["open"] < n:
        if any(t.done() and t.exception() for t in tasks):
            raise next(t.exception() for t in tasks if t.done() and t.exception())
        await asyncio.sleep(0.05)
    ready.set()
    print("READY", flush=True)
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    for t in done:
        if t.exception():
            print(f"client error: {t.exception()!r}", file=sys.stderr)
    print(
        "RESULT "
        + json.dumps(
            {
                "open": out["open"],
                "received": out["received"],
                "last": out["last"],
                "sample": out["sample"],
            }
        ),
        flush=True,
    )
    for t in pending:
        t.cancel()
    await asyncio.gather(*(ws.close() for ws in out["conns"]), return_exceptions=True)


def main() -> None:
    import resource

    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--timeout", type=float, default=30)
    a = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main_async(a.url, a.n, a.timeout))


if __name__ == "__main__":
    main()

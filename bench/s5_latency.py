"""S5 latency at idle: sendNotification until the sandbox receives the Expo / Web Push request,
against a direct POST to the sandbox.
"""

from __future__ import annotations

import statistics
import time

import httpx

from bench.report import Row
from bench.topology import Ctx

REGISTER_WEB = (
    "mutation($t: String!, $p: String!, $a: String!) { registerDevice(input: {platform: WEB,"
    " token: $t, webPushKeys: {p256dh: $p, auth: $a}}) { device { id } deviceKey } }"
)
REGISTER_EXPO = (
    "mutation($t: String!) { registerDevice(input: {platform: EXPO, token: $t}) { device { id } deviceKey } }"
)
SUBSCRIBE = "mutation($t: String!, $a: ID!, $n: String!) { subscribe(deviceToken: $t, appId: $a, name: $n) { id } }"


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def _device(ctx: Ctx, channel: str, web: bool) -> tuple[str, dict | None]:
    """Register one device through the API and subscribe it; returns (sandbox 'to' key, subscription)."""
    ctx.channel(channel)
    sub = None
    if web:
        sub = httpx.post(f"{ctx.topo.sandbox}/webpush/subscriptions", json={}).json()
        token = sub["endpoint"]
        registered = ctx.gql(REGISTER_WEB, {"t": token, "p": sub["keys"]["p256dh"], "a": sub["keys"]["auth"]})
    else:
        token = f"ExponentPushToken[bench-s5-{time.time_ns()}]"
        registered = ctx.gql(REGISTER_EXPO, {"t": token})
    # Subscribing is the device's own operation: it presents the key registerDevice gave it.
    device_key = registered["registerDevice"]["deviceKey"]
    ctx.gql(SUBSCRIBE, {"t": token, "a": str(ctx.app_id), "n": channel}, device_key=device_key)
    return (sub["id"] if web else token), sub


def _service(ctx: Ctx, channel: str, to: str, n: int, sandbox: httpx.Client) -> list[float]:
    latencies = []
    have = len(sandbox.get("/sandbox/messages", params={"to": to}).json())
    for i in range(have, have + n):
        t0 = time.time()
        ctx.send(channel, title=f"s5 {i}")
        deadline = time.monotonic() + 10
        while True:
            got = sandbox.get("/sandbox/messages", params={"to": to}).json()
            if len(got) > i:
                latencies.append((got[i]["received_at"] - t0) * 1000)
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"send {i} to {to} never reached the sandbox")
            time.sleep(0.002)
        time.sleep(0.02)  # idle between sends
    return latencies


def _direct_expo(sandbox: httpx.Client, to: str, n: int) -> list[float]:
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        r = sandbox.post(
            "/--/api/v2/push/send", json=[{"to": to, "title": f"direct {i}", "body": "x"}]
        )
        r.raise_for_status()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _direct_webpush(sandbox: httpx.Client, sub: dict, n: int) -> list[float]:
    """The same encrypted bytes and VAPID header POSTed n times: the sandbox's own round trip."""
    from api.providers.vapid import VapidSigner, generate_vapid_private_key
    from api.providers.webpush import encrypt_payload

    body = encrypt_payload(b'{"title": "direct"}', sub["keys"]["p256dh"], sub["keys"]["auth"])
    headers = {
        **VapidSigner(generate_vapid_private_key(), "mailto:bench@example.com").headers_for(
            sub["endpoint"]
        ),
        "TTL": "60",
        "Content-Encoding": "aes128gcm",
    }
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = sandbox.post(sub["endpoint"], content=body, headers=headers)
        assert r.status_code == 201, r.text
        out.append((time.perf_counter() - t0) * 1000)
    return out


def run(ctx: Ctx) -> tuple[list[Row], dict]:
    ctx.topo.ensure_workers()
    n = 50 if ctx.quick else 200
    expo_to, _ = _device(ctx, "s5-expo", web=False)
    web_to, sub = _device(ctx, "s5-web", web=True)
    with httpx.Client(base_url=ctx.topo.sandbox, timeout=10) as sandbox:
        sandbox.delete("/sandbox/messages")
        ctx.send("s5-expo", "warm-up")  # first use: provider clients, VAPID signature
        ctx.send("s5-web", "warm-up")
        time.sleep(1.0)
        expo = _service(ctx, "s5-expo", expo_to, n, sandbox)
        web = _service(ctx, "s5-web", web_to, n, sandbox)
        d_expo = _direct_expo(sandbox, "ExponentPushToken[bench-direct]", n)
        d_web = _direct_webpush(sandbox, sub, n)
    rows = []
    for label, got, base in (("Expo", expo, d_expo), ("Web Push", web, d_web)):
        p50, p99 = statistics.median(got), pct(got, 0.99)
        rows.append(
            Row(
                "S5",
                f"{label} p50",
                p50,
                "ms",
                statistics.median(base),
                "direct POST",
                "< 50 ms",
                p50 < 50,
                False,
            )
        )
        rows.append(
            Row("S5", f"{label} p99", p99, "ms", pct(base, 0.99), "direct POST", "-", None, False)
        )
    return rows, {
        "sends": n,
        "expo_ms": expo,
        "webpush_ms": web,
        "direct_expo_ms": d_expo,
        "direct_webpush_ms": d_web,
    }

"""S8 APNs fan-out: one notification to 10,000 APNs devices through the sandbox's APNs (HTTP/2)
until every delivery is DELIVERED, against a naive loop: one POST /3/device/{token} at a time over
HTTP/2 with httpx (aioapns is not installed here), the provider token made once."""

from __future__ import annotations

import time

import jwt

from bench.native import naive_client, naive_rate, run_fan_out, set_credentials
from bench.report import Row
from bench.topology import Ctx


def run(ctx: Ctx) -> tuple[list[Row], dict]:
    ctx.topo.ensure_workers()
    _, key = set_credentials(ctx)
    token = jwt.encode({"iss": key["team_id"], "iat": int(time.time())}, key["private_key"], algorithm="ES256",
                       headers={"kid": key["key_id"]})
    headers = {"authorization": f"bearer {token}", "apns-topic": "com.bench.app", "apns-push-type": "alert",
               "apns-priority": "10"}
    with naive_client(ctx, http2=True) as client:
        naive = naive_rate(lambda i: client.post(f"{ctx.topo.native}/3/device/{(i + 2):064x}", headers=headers,
                                                 json={"aps": {"alert": {"title": "bench", "body": "hello"}}}))
    return run_fan_out(ctx, "S8", "APNS", naive, "naive POST per message (httpx, HTTP/2)")

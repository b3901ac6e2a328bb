"""S7 FCM fan-out: one notification to 10,000 FCM devices through the sandbox's FCM v1 (HTTP/2)
until every delivery is DELIVERED, against a naive loop: one messages:send per message, one at
a time (what firebase-admin's messaging.send per message amounts to; it is not installed here),
with httpx and a token fetched once."""

from __future__ import annotations

import time

import httpx
import jwt

from bench.native import naive_client, naive_rate, run_fan_out, set_credentials
from bench.report import Row
from bench.topology import Ctx


def _access_token(client: httpx.Client, token_url: str, account: dict) -> str:
    now = int(time.time())
    assertion = jwt.encode({"iss": account["client_email"], "aud": token_url, "iat": now, "exp": now + 3600,
                            "scope": "https://www.googleapis.com/auth/firebase.messaging"},
                           account["private_key"], algorithm="RS256")
    grant = client.post(token_url, data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                         "assertion": assertion})
    grant.raise_for_status()
    return grant.json()["access_token"]


def run(ctx: Ctx) -> tuple[list[Row], dict]:
    ctx.topo.ensure_workers()
    account, _ = set_credentials(ctx)
    native = ctx.topo.native
    with naive_client(ctx, http2=False) as client:
        token = _access_token(client, f"{native}/token", account)
        url = f"{native}/v1/projects/{account['project_id']}/messages:send"
        headers = {"authorization": f"Bearer {token}"}
        naive = naive_rate(lambda i: client.post(url, headers=headers, json={"message": {
            "token": f"naive-{i}:APA91b", "notification": {"title": "bench", "body": "hello"}}}))
    return run_fan_out(ctx, "S7", "FCM", naive, "naive messages:send loop (httpx)")

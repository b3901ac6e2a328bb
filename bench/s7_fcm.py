"""S7 FCM fan-out: one notification to 10,000 FCM devices through the sandbox's FCM v1 (HTTP/2)
until every delivery is DELIVERED, against a naive loop: firebase-admin's `messaging.send`, one
message at a time (the issue's baseline), pointed at the sandbox. Without firebase-admin, one
messages:send per message with httpx and a token fetched once, and the row says so."""

from __future__ import annotations

import os
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


class _Sent:
    """What naive_rate expects of an answer (firebase-admin raises on a failure instead)."""

    def raise_for_status(self) -> None:
        return None


def _firebase_admin_rate(ctx: Ctx, account: dict) -> dict | None:
    try:
        import firebase_admin
        from firebase_admin import credentials, messaging
    except ImportError:
        return None
    native = ctx.topo.native
    # The key file's token_uri and FCM's URL point at the sandbox; its certificate is trusted for
    # the loop only (firebase-admin and google-auth talk through requests).
    messaging._MessagingService.FCM_URL = native + "/v1/projects/{0}/messages:send"
    app = firebase_admin.initialize_app(credentials.Certificate({**account, "token_uri": f"{native}/token"}),
                                        {"projectId": account["project_id"]}, name=f"bench-{time.time_ns()}")
    before = os.environ.get("REQUESTS_CA_BUNDLE")
    os.environ["REQUESTS_CA_BUNDLE"] = str(ctx.topo.ca_file)
    try:
        def send_one(i: int) -> _Sent:
            messaging.send(messaging.Message(token=f"naive-{i}:APA91b", notification=messaging.Notification(
                title="bench", body="hello")), app=app)
            return _Sent()

        return naive_rate(send_one)
    finally:
        if before is None:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = before
        firebase_admin.delete_app(app)


def run(ctx: Ctx) -> tuple[list[Row], dict]:
    ctx.topo.ensure_workers()
    account, _ = set_credentials(ctx)
    naive = _firebase_admin_rate(ctx, account)
    if naive is not None:
        return run_fan_out(ctx, "S7", "FCM", naive, "naive firebase-admin messaging.send loop")
    native = ctx.topo.native
    with naive_client(ctx, http2=False) as client:
        token = _access_token(client, f"{native}/token", account)
        url = f"{native}/v1/projects/{account['project_id']}/messages:send"
        headers = {"authorization": f"Bearer {token}"}
        naive = naive_rate(lambda i: client.post(url, headers=headers, json={"message": {
            "token": f"naive-{i}:APA91b", "notification": {"title": "bench", "body": "hello"}}}))
    return run_fan_out(ctx, "S7", "FCM", naive, "naive messages:send loop (httpx; firebase-admin not installed)")

"""The README's run command (`booper dev`) as a real process, and its first session."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.support.processes import Process, booper
from tests.support.sandbox import free_port

pytestmark = pytest.mark.e2e


def gql(url: str, query: str, variables: dict | None = None, key: str | None = None, token: str | None = None,
        device_key: str | None = None) -> dict:
    headers = {"x-device-key": device_key} if device_key else {}
    if key:
        headers["authorization"] = f"Bearer {key}"
    if token:
        headers["authorization"] = f"Bearer {token}"
    body = httpx.post(url, json={"query": query, "variables": variables or {}}, headers=headers, timeout=10).json()
    assert not body.get("errors"), body
    return body["data"]


def test_booper_dev_runs_the_first_session_end_to_end(tmp_path):
    port, sandbox_port = free_port(), free_port()
    dev = Process(
        "booper-dev",
        booper("dev", "--port", str(port), "--sandbox-port", str(sandbox_port)),
        {"BOOPER_DATA_DIR": str(tmp_path / "data"), "BOOPER_DATABASE_URL": ""},
        tmp_path,
    )
    try:
        url = f"http://127.0.0.1:{port}/graphql"
        dev.wait_http(f"http://127.0.0.1:{port}/healthz")
        # The README's first session, step by step.
        signed = gql(url, 'mutation { signUp(email: "ada@example.com", password: "correct horse") { token } }')
        token = signed["signUp"]["token"]
        created = gql(url, 'mutation { createApp(name: "Weather") { app { id } apiKey { secret } } }', token=token)
        app_id = created["createApp"]["app"]["id"]
        key = created["createApp"]["apiKey"]["secret"]
        gql(url, 'mutation($a: ID!) { createChannel(appId: $a, name: "alerts") { id } }', {"a": app_id}, key=key)
        sub = httpx.post(f"http://127.0.0.1:{sandbox_port}/webpush/subscriptions", json={}).json()
        # Each device keeps the key registerDevice returns and presents it (X-Device-Key) to subscribe.
        expo = gql(url, 'mutation { registerDevice(input: {platform: EXPO, token: "ExponentPushToken[readme-demo]"})'
                        " { device { id tokenHint } deviceKey } }")["registerDevice"]
        web = gql(
            url,
            "mutation($t: String!, $p: String!, $a: String!) { registerDevice(input: {platform: WEB, token: $t,"
            " webPushKeys: {p256dh: $p, auth: $a}}) { device { id } deviceKey } }",
            {"t": sub["endpoint"], "p": sub["keys"]["p256dh"], "a": sub["keys"]["auth"]},
        )["registerDevice"]
        assert expo["deviceKey"].startswith("dk_") and web["deviceKey"].startswith("dk_")
        for token_, key_ in (("ExponentPushToken[readme-demo]", expo["deviceKey"]), (sub["endpoint"], web["deviceKey"])):
            gql(url, 'mutation($t: String!, $a: ID!) { subscribe(deviceToken: $t, appId: $a, name: "alerts") { id } }',
                {"t": token_, "a": app_id}, device_key=key_)
        sent = gql(url, 'mutation { sendNotification(input: {channel: "alerts", title: "Rain", body: "Take an umbrella"}) { id } }', key=key)
        nid = sent["sendNotification"]["id"]

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            data = gql(url, "query($n: ID!) { notification(id: $n) { status deliveryCounts { delivered failed } } }",
                       {"n": nid}, key=key)
            if data["notification"]["status"] == "COMPLETED":
                break
            time.sleep(0.2)
        assert data["notification"] == {"status": "COMPLETED", "deliveryCounts": {"delivered": 2, "failed": 0}}, dev.log()
        received = httpx.get(f"http://127.0.0.1:{sandbox_port}/sandbox/messages").json()
        assert sorted(m["provider"] for m in received) == ["expo", "webpush"]

        # 6. People: the app's server says whose devices these are, then notifies "user-42" on all of them.
        gql(url, 'mutation { registerDevice(input: {platform: EXPO, token: "ExponentPushToken[demo-tablet]",'
                 ' identifier: "user-42"}) { device { id } } }', key=key)
        gql(url, 'mutation($d: ID!) { identifyDevice(deviceId: $d, identifier: "user-42") { identifier } }',
            {"d": expo["device"]["id"]}, key=key)
        direct = gql(url, 'mutation { sendNotification(input: {identifiers: ["user-42"], title: "Your order shipped"})'
                          " { id identifiers } }", key=key)["sendNotification"]
        assert direct["identifiers"] == ["user-42"]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            shipped = [m for m in httpx.get(f"http://127.0.0.1:{sandbox_port}/sandbox/messages").json()
                       if m["provider"] == "expo" and m["message"]["title"] == "Your order shipped"]
            if len(shipped) == 2:
                break
            time.sleep(0.2)
        assert sorted(m["message"]["to"] for m in shipped) == ["ExponentPushToken[demo-tablet]",
                                                                 "ExponentPushToken[readme-demo]"]
        person = gql(url, 'query($a: ID!) { person(appId: $a, identifier: "user-42") { devices { tokenHint } } }',
                     {"a": app_id}, key=key)["person"]
        assert len(person["devices"]) == 2
        assert (tmp_path / "data" / "booper.sqlite3").exists()
    finally:
        dev.stop()

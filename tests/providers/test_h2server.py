"""The sandbox's HTTP/2 server (api/sandbox/h2server.py) with a client it did not write: httpx on
the `h2` state machine, whose HPACK blocks are Huffman-coded and use the dynamic table, and which
sends a large body as several DATA frames within the flow-control windows."""

from __future__ import annotations

import ssl
import time

import httpx
import jwt
import orjson


def test_a_reference_http2_client_is_served_on_one_connection(sandbox_server):
    sandbox_server.reset()
    key = sandbox_server.issue_apns_key("TEAMH2TEST")
    token = jwt.encode({"iss": key["team_id"], "iat": int(time.time())}, key["private_key"], algorithm="ES256",
                       headers={"kid": key["key_id"]})
    headers = {"authorization": f"bearer {token}", "apns-topic": "com.example", "apns-push-type": "alert"}
    with httpx.Client(http2=True, verify=ssl.create_default_context(cafile=sandbox_server.ca_file), timeout=5) as client:
        answers = [client.post(f"{sandbox_server.native_url}/3/device/{i:064x}", headers=headers,
                               content=orjson.dumps({"aps": {"alert": {"title": f"t{i}"}}})) for i in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert all(a.http_version == "HTTP/2" and len(a.headers["apns-id"]) == 36 for a in answers)
    got = [m for m in sandbox_server.state.messages if m["provider"] == "apns"]
    assert [m["message"]["aps"]["alert"]["title"] for m in got] == ["t0", "t1", "t2"]
    assert got[0]["headers"]["apns-topic"] == "com.example"


def test_a_body_over_several_frames_and_the_default_window_is_read_whole(sandbox_server):
    sandbox_server.reset()
    account = sandbox_server.issue_service_account("h2-body")
    with httpx.Client(http2=True, verify=ssl.create_default_context(cafile=sandbox_server.ca_file), timeout=5) as client:
        now = int(time.time())
        assertion = jwt.encode({"iss": account["client_email"], "aud": f"{sandbox_server.native_url}/token",
                                "iat": now, "exp": now + 3600, "scope": "https://www.googleapis.com/auth/firebase.messaging"},
                               account["private_key"], algorithm="RS256")
        grant = client.post(f"{sandbox_server.native_url}/token", data={
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion})
        assert grant.status_code == 200, grant.text
        url = f"{sandbox_server.native_url}/v1/projects/h2-body/messages:send"
        auth = {"authorization": f"Bearer {grant.json()['access_token']}"}
        big = client.post(url, headers=auth, json={"message": {"token": "t", "data": {"x": "y" * 100_000}}})
        small = client.post(url, headers=auth, json={"message": {"token": "t", "data": {"x": "y"}}})
    # 100 KB: more than 16 KB frames and the 64 KB default window; all of it read, then judged.
    assert big.status_code == 400 and big.json()["error"]["details"][0]["errorCode"] == "INVALID_ARGUMENT"
    assert small.status_code == 200 and small.json()["name"].startswith("projects/h2-body/messages/")


def _grant(client: httpx.Client, sandbox_server, account: dict, **claims) -> httpx.Response:
    now = int(time.time())
    assertion = jwt.encode({"iss": account["client_email"], "iat": now, "exp": now + 3600, **claims},
                           account["private_key"], algorithm="RS256")
    return client.post(f"{sandbox_server.native_url}/token", data={
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion})


def test_the_token_endpoint_takes_what_google_auth_sends_and_refuses_other_audiences_and_scopes(sandbox_server):
    """google-auth (under firebase-admin) always names Google's token endpoint as the audience and
    asks for cloud-platform, which Google accepts for FCM; another audience or a scope that does
    not reach FCM is refused, as Google refuses it."""
    sandbox_server.reset()
    account = sandbox_server.issue_service_account("google-auth")
    with httpx.Client(http2=True, verify=ssl.create_default_context(cafile=sandbox_server.ca_file), timeout=5) as client:
        google = _grant(client, sandbox_server, account, aud="https://oauth2.googleapis.com/token",
                        scope="https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/firebase")
        elsewhere = _grant(client, sandbox_server, account, aud="https://attacker.example/token",
                           scope="https://www.googleapis.com/auth/firebase.messaging")
        storage = _grant(client, sandbox_server, account, aud="https://oauth2.googleapis.com/token",
                         scope="https://www.googleapis.com/auth/devstorage.read_write")
    assert google.status_code == 200 and google.json()["access_token"].startswith("ya29.")
    assert elsewhere.status_code == 400 and elsewhere.json()["error"] == "invalid_grant"
    assert storage.status_code == 400 and storage.json()["error"] == "invalid_scope"

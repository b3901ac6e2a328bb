"""Revocation crosses processes: two `booper serve` behind no shared memory, PostgreSQL and Redis.

What one API process withdraws (a revoked key, an unsubscribe) must end what another process
holds open (live streams and socket operations) within the key cache's 5 s, plus a little.
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
import redis
import websockets

from tests.support import databases
from tests.support.processes import Process, booper
from tests.support.sandbox import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]
REDIS_URL = databases.redis_url(2)
WITHIN = 12.0  # seconds: the 5 s key cache, the 5.5 s follow-up check, and slack for a loaded CI box


def gql(url: str, query: str, variables: dict | None = None, *, auth: str | None = None,
        device_key: str | None = None) -> dict:
    headers = {"authorization": f"Bearer {auth}"} if auth else {}
    if device_key:
        headers["x-device-key"] = device_key
    body = httpx.post(url, json={"query": query, "variables": variables or {}}, headers=headers, timeout=15).json()
    assert not body.get("errors"), body
    return body["data"]


@pytest.fixture
def two_apis(tmp_path):
    db_url = databases.create_postgres_database()
    redis.Redis.from_url(REDIS_URL).flushdb()
    sandbox_port, port_a, port_b = free_port(), free_port(), free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    env = {
        "BOOPER_DATABASE_URL": db_url,
        "BOOPER_REDIS_URL": REDIS_URL,
        "BOOPER_DATA_DIR": str(tmp_path / "data"),
        "BOOPER_SECRET_KEY": "e2e-secret-key-not-for-production-000000",
        "BOOPER_EXPO_URL": sandbox_url,
        "BOOPER_WEBPUSH_ALLOWED_ORIGINS": sandbox_url,
        "BOOPER_PERIODIC_INTERVAL": "1",
    }
    procs: dict[str, Process] = {}
    try:
        procs["sandbox"] = Process("sandbox", booper("sandbox", "--port", str(sandbox_port)), env, tmp_path)
        procs["sandbox"].wait_http(f"{sandbox_url}/sandbox/stats")
        # One migrates first; the second starts on the migrated database.
        procs["a"] = Process("serve-a", booper("serve", "--port", str(port_a)), env, tmp_path)
        procs["a"].wait_http(f"http://127.0.0.1:{port_a}/healthz")
        procs["b"] = Process("serve-b", booper("serve", "--port", str(port_b)), env, tmp_path)
        procs["b"].wait_http(f"http://127.0.0.1:{port_b}/healthz")
        procs["worker"] = Process("worker", booper("worker"), env, tmp_path)
        yield f"http://127.0.0.1:{port_a}/graphql", f"http://127.0.0.1:{port_b}/graphql"
    finally:
        for p in procs.values():
            p.stop()
        databases.drop_postgres_database(db_url)


async def _open(url: str, params: dict) -> websockets.ClientConnection:
    ws = await websockets.connect(url.replace("http://", "ws://"), subprotocols=["graphql-transport-ws"])
    await ws.send(json.dumps({"type": "connection_init", "payload": params}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    return ws


async def _ended(ws, op_id: str, timeout: float) -> tuple[list[dict], float]:
    """Messages of op_id until it ends with an error; (the errors, seconds it took)."""
    started = time.monotonic()
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message.get("id") != op_id:
            continue
        if message["type"] == "error":
            return message["payload"], time.monotonic() - started
        if message["type"] == "next" and message["payload"].get("errors"):
            return message["payload"]["errors"], time.monotonic() - started


def test_a_key_revoked_on_one_process_ends_streams_and_operations_on_another(two_apis):
    url_a, url_b = two_apis
    jwt = gql(url_a, 'mutation { signUp(email: "t@example.com", password: "correct horse") { token } }')["signUp"]["token"]
    created = gql(url_a, 'mutation { createApp(name: "T") { app { id apiKeys { id } } apiKey { secret } } }',
                  auth=jwt)["createApp"]
    app_id, key = created["app"]["id"], created["apiKey"]["secret"]
    key_id = created["app"]["apiKeys"][0]["id"]

    async def scenario() -> tuple[list[dict], float, dict]:
        ws = await _open(url_b, {"apiKey": key})
        try:
            await ws.send(json.dumps({"id": "s", "type": "subscribe", "payload": {
                "query": "subscription($a: ID) { notifications(appId: $a) { id } }", "variables": {"a": app_id}}}))
            await ws.send(json.dumps({"id": "q1", "type": "subscribe", "payload": {
                "query": "query($a: ID!) { app(id: $a) { name } }", "variables": {"a": app_id}}}))
            first = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert first["id"] == "q1" and not first["payload"].get("errors"), first
            await asyncio.to_thread(gql, url_a, "mutation($k: ID!) { revokeApiKey(id: $k) { id } }", {"k": key_id},
                                    auth=jwt)
            errors, took = await _ended(ws, "s", WITHIN)
            await ws.send(json.dumps({"id": "q2", "type": "subscribe", "payload": {
                "query": "query($a: ID!) { app(id: $a) { name } }", "variables": {"a": app_id}}}))
            while True:
                after = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if after.get("id") == "q2":
                    return errors, took, after
        finally:
            await ws.close()

    errors, took, after = asyncio.run(scenario())
    assert errors[0]["extensions"]["code"] == "UNAUTHENTICATED", errors
    assert took < WITHIN
    payload = after["payload"] if after["type"] == "next" else {"errors": after["payload"]}
    assert [e["extensions"]["code"] for e in payload["errors"]] == ["UNAUTHENTICATED"], after
    print(f"stream on the other process ended {took:.1f} s after the revocation")


def test_an_unsubscribe_on_one_process_stops_a_device_stream_on_another(two_apis):
    url_a, url_b = two_apis
    jwt = gql(url_a, 'mutation { signUp(email: "u@example.com", password: "correct horse") { token } }')["signUp"]["token"]
    created = gql(url_a, 'mutation { createApp(name: "U") { app { id } apiKey { secret } } }', auth=jwt)["createApp"]
    key = created["apiKey"]["secret"]
    news = gql(url_a, 'mutation($a: ID!) { createChannel(appId: $a, name: "news") { id } }',
               {"a": created["app"]["id"]}, auth=key)["createChannel"]["id"]
    sport = gql(url_a, 'mutation($a: ID!) { createChannel(appId: $a, name: "sport") { id } }',
                {"a": created["app"]["id"]}, auth=key)["createChannel"]["id"]
    token = "ExponentPushToken[trust-e2e]"
    device_key = gql(url_a, "mutation($t: String!) { registerDevice(input: {platform: EXPO, token: $t}) { deviceKey } }",
                     {"t": token})["registerDevice"]["deviceKey"]
    for channel in (news, sport):
        gql(url_a, "mutation($t: String!, $c: ID) { subscribe(deviceToken: $t, channelId: $c) { id } }",
            {"t": token, "c": channel}, device_key=device_key)
    send = 'mutation($c: ID) { sendNotification(input: {channelId: $c, title: "%s"}) { id } }'

    async def scenario() -> list[str]:
        ws = await _open(url_b, {"deviceKey": device_key})
        try:
            await ws.send(json.dumps({"id": "s", "type": "subscribe", "payload": {
                "query": "subscription($t: String) { notifications(deviceToken: $t) { title } }",
                "variables": {"t": token}}}))
            await asyncio.sleep(0.5)
            await asyncio.to_thread(gql, url_a, "mutation($t: String!, $c: ID) { unsubscribe(deviceToken: $t,"
                                    " channelId: $c) }", {"t": token, "c": news}, device_key=device_key)
            await asyncio.sleep(0.5)  # the access event crosses Redis
            await asyncio.to_thread(gql, url_a, send % "left", {"c": news}, auth=key)
            await asyncio.to_thread(gql, url_a, send % "still here", {"c": sport}, auth=key)
            titles = []
            while "still here" not in titles:
                message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                assert message["type"] == "next" and not message["payload"].get("errors"), message
                titles.append(message["payload"]["data"]["notifications"]["title"])
            return titles
        finally:
            await ws.close()

    assert asyncio.run(scenario()) == ["still here"]

"""The production topology as real processes: PostgreSQL, Redis, `booper serve`, `booper worker`,
`booper scheduler` and the sandbox providers, all on loopback.

Includes the ledger's promise: a worker killed mid-delivery delays deliveries but loses none.
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
REDIS_URL = databases.redis_url(1)


class Client:
    def __init__(self, url: str) -> None:
        self.url = url

    def __call__(self, query: str, variables: dict | None = None, *, auth: str | None = None,
                 device_key: str | None = None) -> dict:
        headers = {"authorization": f"Bearer {auth}"} if auth else {}
        if device_key:
            headers["x-device-key"] = device_key
        body = httpx.post(self.url, json={"query": query, "variables": variables or {}}, headers=headers,
                          timeout=15).json()
        assert not body.get("errors"), body
        return body["data"]


@pytest.fixture
def topology(tmp_path):
    db_url = databases.create_postgres_database()
    redis.Redis.from_url(REDIS_URL).flushdb()
    port, sandbox_port = free_port(), free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    env = {
        "BOOPER_DATABASE_URL": db_url,
        "BOOPER_REDIS_URL": REDIS_URL,
        "BOOPER_DATA_DIR": str(tmp_path / "data"),
        "BOOPER_SECRET_KEY": "e2e-secret-key-not-for-production-000000",
        "BOOPER_EXPO_URL": sandbox_url,
        "BOOPER_WEBPUSH_ALLOWED_ORIGINS": sandbox_url,
        "BOOPER_RECEIPT_DELAY": "1",
        "BOOPER_PERIODIC_INTERVAL": "1",
        "BOOPER_STALL_AFTER": "3",
        "BOOPER_DELIVERY_LEASE": "5",
    }
    procs: dict[str, Process] = {}
    try:
        # Slow providers (250 ms a request) keep work in flight long enough to crash a worker mid-way.
        procs["sandbox"] = Process(
            "sandbox", booper("sandbox", "--port", str(sandbox_port), "--latency-ms", "250"), env, tmp_path
        )
        procs["sandbox"].wait_http(f"{sandbox_url}/sandbox/stats")
        procs["serve"] = Process("serve", booper("serve", "--port", str(port)), env, tmp_path)
        procs["serve"].wait_http(f"http://127.0.0.1:{port}/healthz")
        procs["worker"] = Process("worker", booper("worker"), env, tmp_path)
        procs["scheduler"] = Process("scheduler", booper("scheduler"), env, tmp_path)
        yield {"url": f"http://127.0.0.1:{port}/graphql", "sandbox": sandbox_url, "procs": procs,
               "env": env, "tmp": tmp_path}
    finally:
        for p in procs.values():
            p.stop()
        databases.drop_postgres_database(db_url)


def _setup_app(gql: Client, sandbox: str, devices: int) -> tuple[str, str, str, list[str]]:
    token = gql('mutation { signUp(email: "ops@example.com", password: "correct horse") { token } }')["signUp"]["token"]
    created = gql('mutation { createApp(name: "Prod") { app { id } apiKey { secret } } }', auth=token)["createApp"]
    app_id, key = created["app"]["id"], created["apiKey"]["secret"]
    gql('mutation($a: ID!) { createChannel(appId: $a, name: "news") { id } }', {"a": app_id}, auth=key)
    tokens, keys = [], {}
    for i in range(devices):
        t = f"ExponentPushToken[prod-{i}]"
        keys[t] = gql("mutation($t: String!) { registerDevice(input: {platform: EXPO, token: $t})"
                      " { device { id } deviceKey } }", {"t": t})["registerDevice"]["deviceKey"]
        tokens.append(t)
    sub = httpx.post(f"{sandbox}/webpush/subscriptions", json={}).json()
    keys[sub["endpoint"]] = gql(
        "mutation($t: String!, $p: String!, $a: String!) { registerDevice(input: {platform: WEB, token: $t,"
        " webPushKeys: {p256dh: $p, auth: $a}}) { device { id } deviceKey } }",
        {"t": sub["endpoint"], "p": sub["keys"]["p256dh"], "a": sub["keys"]["auth"]})["registerDevice"]["deviceKey"]
    tokens.append(sub["endpoint"])
    for t in tokens:
        gql('mutation($t: String!, $a: ID!) { subscribe(deviceToken: $t, appId: $a, name: "news") { id } }',
            {"t": t, "a": app_id}, device_key=keys[t])
    return app_id, key, token, tokens


def hint(token: str) -> str:
    """Device.tokenHint: the token's last 6 characters (an Expo token's without its bracket)."""
    return token.removesuffix("]")[-6:] if token.startswith("Expo") else token[-6:]


def _wait_completed(gql: Client, nid: str, key: str, timeout: float, procs) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = gql("query($n: ID!) { notification(id: $n) { status deliveryCounts { pending sent delivered failed } } }",
                {"n": nid}, auth=key)["notification"]
        if n["status"] == "COMPLETED":
            return n
        time.sleep(0.3)
    logs = "\n".join(f"--- {name}\n{p.log()}" for name, p in procs.items())
    raise AssertionError(f"notification {nid} not completed: {n}\n{logs}")


def test_send_through_worker_and_scheduler_with_live_events_across_processes(topology):
    gql = Client(topology["url"])
    app_id, key, jwt, tokens = _setup_app(gql, topology["sandbox"], devices=3)

    async def live_and_send() -> list[dict]:
        ws_url = topology["url"].replace("http://", "ws://")
        async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {jwt}"}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "d", "type": "subscribe", "payload": {
                "query": "subscription($a: ID!) { deliveryEvents(appId: $a) { status device { token tokenHint } } }",
                "variables": {"a": app_id}}}))
            await asyncio.sleep(0.3)
            await asyncio.to_thread(gql, 'mutation { sendNotification(input: {channel: "news", title: "Hi"}) { id } }',
                                    auth=key)
            events = []
            # 4 devices: each is SENT or DELIVERED at least once, from the worker process, via Redis.
            while len({e["device"]["tokenHint"] for e in events}) < len(tokens):
                msg = json.loads(await asyncio.wait_for(ws.recv(), 20))
                assert msg["type"] == "next", msg
                events.append(msg["payload"]["data"]["deliveryEvents"])
            return events

    events = asyncio.run(live_and_send())
    # The owner sees a hint of each token, never the token of a device that registered itself.
    assert {e["device"]["tokenHint"] for e in events} == {hint(t) for t in tokens}
    assert {e["device"]["token"] for e in events} == {None}

    nid = gql('query($a: ID!) { notifications(appId: $a) { nodes { id } } }', {"a": app_id}, auth=key)["notifications"]["nodes"][0]["id"]
    # Expo receipts come from the scheduler's periodic job, executed by the worker.
    done = _wait_completed(gql, nid, key, 30, topology["procs"])
    assert done["deliveryCounts"] == {"pending": 0, "sent": 0, "delivered": 4, "failed": 0}
    # Each device got the payload exactly once; the Web Push one decrypted by the sandbox.
    received = httpx.get(f"{topology['sandbox']}/sandbox/messages").json()
    assert sorted(m["to"] if m["provider"] == "expo" else "web" for m in received) == sorted(
        t if t.startswith("Expo") else "web" for t in tokens
    )
    web = [m for m in received if m["provider"] == "webpush"]
    assert json.loads(web[0]["payload"])["title"] == "Hi"

    # A scheduled notification is dispatched by the scheduler when due.
    send_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2))
    scheduled = gql('mutation($s: DateTime!) { sendNotification(input: {channel: "news", title: "Later", sendAt: $s})'
                    ' { id status } }', {"s": send_at}, auth=key)["sendNotification"]
    assert scheduled["status"] == "SCHEDULED"
    _wait_completed(gql, scheduled["id"], key, 30, topology["procs"])


def test_a_killed_worker_delays_deliveries_but_loses_none(topology):
    gql = Client(topology["url"])
    procs = topology["procs"]
    app_id, key, _, tokens = _setup_app(gql, topology["sandbox"], devices=20)
    procs["worker"].kill()  # SIGKILL: no shutdown, no acks
    nid = gql('mutation { sendNotification(input: {channel: "news", title: "Survive"}) { id } }', auth=key)["sendNotification"]["id"]
    time.sleep(1)
    # The fan-out task sits in Redis with no worker; flush Redis too: the task is gone for good.
    redis.Redis.from_url(REDIS_URL).flushdb()
    procs["worker"] = Process("worker-2", booper("worker"), topology["env"], topology["tmp"])
    done = _wait_completed(gql, nid, key, 45, procs)
    assert done["deliveryCounts"]["delivered"] == len(tokens)
    received = httpx.get(f"{topology['sandbox']}/sandbox/messages").json()
    assert sorted(m["to"] for m in received if m["provider"] == "expo") == sorted(t for t in tokens if t.startswith("Expo"))


def test_kill_9_of_the_worker_mid_fan_out_loses_nothing_and_duplicates_only_what_was_in_flight(topology):
    import asyncpg

    gql = Client(topology["url"])
    procs = topology["procs"]
    app_id, key, _, _ = _setup_app(gql, topology["sandbox"], devices=1)
    n_devices = 3000

    async def bulk_devices() -> None:
        conn = await asyncpg.connect(topology["env"]["BOOPER_DATABASE_URL"])
        try:
            channel = await conn.fetchval("SELECT id FROM channels WHERE app = $1 AND name = 'news'", int(app_id))
            ids = await conn.fetch(
                "INSERT INTO devices (platform, token, active, created_at) SELECT 'EXPO',"
                " 'ExponentPushToken[bulk-' || g || ']', true, now() FROM generate_series(1, $1) g RETURNING id",
                n_devices,
            )
            await conn.executemany("INSERT INTO channel_subscriptions (channel, device, created_at) VALUES ($1, $2, now())",
                                   [(channel, r["id"]) for r in ids])
        finally:
            await conn.close()

    asyncio.run(bulk_devices())
    total = n_devices + 2  # plus the Expo and Web Push devices of _setup_app
    nid = gql('mutation { sendNotification(input: {channel: "news", title: "Crash"}) { id } }', auth=key)["sendNotification"]["id"]

    async def kill_mid_flight() -> int:
        conn = await asyncpg.connect(topology["env"]["BOOPER_DATABASE_URL"])
        try:
            for _ in range(400):
                created = await conn.fetchval("SELECT COUNT(*) FROM deliveries WHERE notification = $1", int(nid))
                handed = await conn.fetchval(
                    "SELECT COUNT(*) FROM deliveries WHERE notification = $1 AND status <> 'PENDING'", int(nid))
                if created > 0 and 0 < handed < total:
                    procs["worker"].kill()  # SIGKILL, mid fan-out / mid send
                    # In flight: claimed by the dead worker, not yet recorded. Only these may be sent twice.
                    return await conn.fetchval(
                        "SELECT COUNT(*) FROM deliveries WHERE notification = $1 AND status = 'PENDING'"
                        " AND lease_until IS NOT NULL", int(nid))
                await asyncio.sleep(0.02)
            raise AssertionError("never caught the worker mid-flight")
        finally:
            await conn.close()

    in_flight = asyncio.run(kill_mid_flight())
    procs["worker"] = Process("worker-after-crash", booper("worker"), topology["env"], topology["tmp"])
    done = _wait_completed(gql, nid, key, 120, procs)
    assert done["deliveryCounts"] == {"pending": 0, "sent": 0, "delivered": total, "failed": 0}
    received = [m["to"] for m in httpx.get(f"{topology['sandbox']}/sandbox/messages").json() if m["provider"] == "expo"]
    assert len(set(received)) == total - 1  # every Expo device at least once
    duplicates = len(received) - len(set(received))
    assert duplicates <= in_flight, (duplicates, in_flight)

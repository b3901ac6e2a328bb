"""Workers SIGKILLed mid fan-out over a mixed channel (Expo, Web Push, FCM, APNs): nothing lost,
and nothing pushed twice but the rows the killed workers had in flight (DESIGN.md, principle 1)."""

from __future__ import annotations

import asyncio
import json
import os
import time

import asyncpg
import httpx
import pytest

from tests.e2e import chaos_support as chaos
from tests.support import databases

# Not marked e2e: like test_chaos.py it runs in the PostgreSQL pass (scripts/test), which skips e2e.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(os.environ.get("BOOPER_TEST_DB") != "postgres",
                       reason="the production topology (PostgreSQL, Redis, workers): runs in the PostgreSQL pass"),
]
REDIS_URL = databases.redis_url(2)
PER_PLATFORM = 400
PLATFORMS = ("EXPO", "WEB", "FCM", "APNS")
NOTIFICATIONS = 2
ENV = {
    "BOOPER_STALL_AFTER": "5", "BOOPER_PERIODIC_INTERVAL": "2", "BOOPER_RETRY_BASE_DELAY": "0.5",
    "BOOPER_RETRY_MAX_DELAY": "4", "BOOPER_MAX_ATTEMPTS": "10", "BOOPER_RECEIPT_DELAY": "1",
    "BOOPER_DELIVERY_LEASE": "20", "BOOPER_EXPO_RATE": "300", "BOOPER_PROVIDER_TIMEOUT": "5",
    "BOOPER_FCM_CONCURRENCY": "16", "BOOPER_APNS_CONCURRENCY": "16", "BOOPER_WEBPUSH_CONCURRENCY": "16",
}
SEND = "mutation($i: SendNotificationInput!) { sendNotification(input: $i) { id } }"


@pytest.fixture
def topology(tmp_path):
    with chaos.running_topology(tmp_path, REDIS_URL, ENV, latency_ms=100) as topo:
        yield topo


def _credentials(topo: chaos.Topology, app_id: str, jwt: str) -> None:
    account = httpx.post(f"{topo.sandbox}/sandbox/fcm/service-accounts", json={"project_id": "chaos-project"}).json()
    key = httpx.post(f"{topo.sandbox}/sandbox/apns/keys", json={"team_id": "CHAOSTEAM1"}).json()
    for query, variables in (
        ("mutation($a: ID!, $j: String!) { setFcmCredentials(appId: $a, input: {serviceAccountJson: $j}) { id } }",
         {"a": app_id, "j": json.dumps(account)}),
        ("mutation($a: ID!, $i: ApnsCredentialsInput) { setApnsCredentials(appId: $a, input: $i) { id } }",
         {"a": app_id, "i": {"keyId": key["key_id"], "teamId": key["team_id"], "privateKey": key["private_key"],
                             "topic": "com.chaos.app", "production": False}}),
    ):
        assert not topo.gql(query, variables, auth=jwt).get("errors")


def _seed(topo: chaos.Topology, app_id: int) -> list[str]:
    """PER_PLATFORM devices of each platform on channel "news"; returns the addresses the sandbox
    records messages under (tokens, and Web Push subscription ids)."""
    subscriptions = [httpx.post(f"{topo.sandbox}/webpush/subscriptions", json={}).json() for _ in range(PER_PLATFORM)]

    async def run() -> list[str]:
        conn = await asyncpg.connect(topo.db_url)
        try:
            channel = await conn.fetchval("SELECT id FROM channels WHERE app = $1 AND name = 'news'", app_id)
            rows = await conn.fetch(
                "INSERT INTO devices (platform, token, app, active, created_at)"
                " SELECT 'EXPO', 'ExponentPushToken[mixed-' || g || ']', NULL::bigint, true, now() FROM generate_series(1, $1) g"
                " UNION ALL SELECT 'FCM', 'fcm-mixed-' || g || ':APA91b', $2, true, now() FROM generate_series(1, $1) g"
                " UNION ALL SELECT 'APNS', lpad(to_hex(g), 64, '0'), $2, true, now() FROM generate_series(1, $1) g"
                " RETURNING id, token", PER_PLATFORM, app_id)
            web = await conn.fetch(
                "INSERT INTO devices (platform, token, p256dh, auth, active, created_at)"
                " SELECT 'WEB', e, p, a, true, now() FROM unnest($1::text[], $2::text[], $3::text[]) AS s(e, p, a)"
                " RETURNING id, token",
                [s["endpoint"] for s in subscriptions], [s["keys"]["p256dh"] for s in subscriptions],
                [s["keys"]["auth"] for s in subscriptions])
            await conn.execute("INSERT INTO channel_subscriptions (channel, device, created_at)"
                               " SELECT $1, d, now() FROM unnest($2::bigint[]) d", channel,
                               [r["id"] for r in [*rows, *web]])
            return [r["token"] for r in rows] + [r["token"].rsplit("/", 1)[1] for r in web]
        finally:
            await conn.close()

    return asyncio.run(run())


def _wait(topo: chaos.Topology, what: str, check, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n{topo.logs()}")


def _rows(topo: chaos.Topology, ids: list[int], condition: str) -> int:
    return topo.query(f"SELECT count(*) AS n FROM deliveries WHERE notification = ANY($1::bigint[]) AND {condition}",
                      ids)[0]["n"]


def test_a_worker_killed_mid_fan_out_over_every_transport_loses_nothing(topology):
    topo = topology
    jwt = topo.gql('mutation { signUp(email: "mixed@example.com", password: "correct horse") { token } }')
    jwt = jwt["data"]["signUp"]["token"]
    created = topo.gql('mutation { createApp(name: "Mixed") { app { id } apiKey { secret } } }', auth=jwt)
    app_id, key = created["data"]["createApp"]["app"]["id"], created["data"]["createApp"]["apiKey"]["secret"]
    assert not topo.gql('mutation($a: ID!) { createChannel(appId: $a, name: "news") { id } }', {"a": app_id},
                        auth=key).get("errors")
    _credentials(topo, app_id, jwt)
    addresses = _seed(topo, int(app_id))
    topo.faults(*({"match": "*", "provider": p, "fault": "http_503", "probability": 0.1, "retry_after": 0.5}
                  for p in ("expo", "webpush", "fcm", "apns")))
    ids = []
    for i in range(NOTIFICATIONS):
        body = httpx.post(topo.url, json={"query": SEND, "variables": {"i": {"channel": "news", "title": f"mixed-{i}"}}},
                          headers={"authorization": f"Bearer {key}"}, timeout=20).json()
        assert not body.get("errors"), body
        ids.append(int(body["data"]["sendNotification"]["id"]))
    total = PER_PLATFORM * len(PLATFORMS) * NOTIFICATIONS
    # Kill while senders hold rows (their requests at the providers) and some are still to go.
    _wait(topo, "senders mid-flight", lambda: _rows(topo, ids, "status = 'PENDING' AND lease_until > now()") > 0
          and _rows(topo, ids, "status <> 'PENDING'") > 0, 60)
    for name in topo.workers():
        topo.procs[name].kill()
    in_flight = _rows(topo, ids, "status = 'PENDING' AND lease_until > now()")
    topo.start_worker("worker0")
    topo.start_worker("worker1")
    _wait(topo, "every delivery settled", lambda: _rows(topo, ids, "status <> 'PENDING'") == total, 180)

    outcomes = topo.query("SELECT d.platform, x.status, x.error, count(*) AS n FROM deliveries x"
                          " JOIN devices d ON d.id = x.device WHERE x.notification = ANY($1::bigint[])"
                          " GROUP BY 1, 2, 3 ORDER BY 1", ids)
    assert _rows(topo, ids, "status = 'DELIVERED' OR status = 'SENT'") == total, [dict(r) for r in outcomes]
    pushes = topo.pushes()
    counts = [pushes.get((nid, address), 0) for nid in ids for address in addresses]
    lost = sum(1 for c in counts if c == 0)
    duplicates = sum(c - 1 for c in counts if c > 1)
    print(f"\nmixed channel: {total} deliveries, lost {lost}, duplicates {duplicates}, in flight at the kill "
          f"{in_flight}")
    assert lost == 0
    assert duplicates <= in_flight

"""Deliveries HELD for quiet hours live in the ledger, not in a worker: with every worker killed
while they wait, the scheduler's sweep releases them at the window's end to fresh workers, each
pushed exactly once (issue 13; DESIGN.md, principle 1)."""

from __future__ import annotations

import datetime as dt
import os
import time

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
DEVICES = 12
ENV = {"BOOPER_PERIODIC_INTERVAL": "1", "BOOPER_RECEIPT_DELAY": "1", "BOOPER_STALL_AFTER": "5"}
REGISTER = ("mutation($i: RegisterDeviceInput!) { registerDevice(input: $i) { device { id } } }")
PREFS = ("mutation($a: ID!, $q: QuietHoursInput) { setPreferences(appId: $a, identifier: \"ann\","
         " input: {quietHours: $q}) { quietHours { start } } }")
SEND = "mutation { sendNotification(input: {identifiers: [\"ann\"], title: \"good morning\"}) { id } }"


def _wait(topo: chaos.Topology, what: str, check, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n{topo.logs()}")


def _statuses(topo: chaos.Topology, nid: int) -> dict[str, int]:
    rows = topo.query("SELECT status, count(*) AS n FROM deliveries WHERE notification = $1 GROUP BY status", nid)
    return {r["status"]: r["n"] for r in rows}


def test_held_deliveries_survive_killed_workers_and_go_out_once_at_the_windows_end(tmp_path):
    with chaos.running_topology(tmp_path, REDIS_URL, ENV, latency_ms=20) as topo:
        jwt = topo.gql('mutation { signUp(email: "quiet@example.com", password: "correct horse") { token } }')
        jwt = jwt["data"]["signUp"]["token"]
        created = topo.gql('mutation { createApp(name: "Quiet") { app { id } apiKey { secret } } }', auth=jwt)
        app_id, key = created["data"]["createApp"]["app"]["id"], created["data"]["createApp"]["apiKey"]["secret"]
        tokens = [f"ExponentPushToken[held-chaos-{i}]" for i in range(DEVICES)]
        for token in tokens:
            body = topo.gql(REGISTER, {"i": {"platform": "EXPO", "token": token, "identifier": "ann"}}, auth=key)
            assert not body.get("errors"), body
        now = dt.datetime.now(dt.UTC)
        window = {"start": (now - dt.timedelta(hours=1)).strftime("%H:%M"),
                  "end": (now + dt.timedelta(hours=1)).strftime("%H:%M"), "timeZone": "UTC"}
        assert not topo.gql(PREFS, {"a": app_id, "q": window}, auth=key).get("errors")

        body = httpx.post(topo.url, json={"query": SEND}, headers={"authorization": f"Bearer {key}"}, timeout=20).json()
        assert not body.get("errors"), body
        nid = int(body["data"]["sendNotification"]["id"])
        _wait(topo, "every delivery HELD", lambda: _statuses(topo, nid) == {"HELD": DEVICES}, 60)
        reasons = topo.query("SELECT DISTINCT reason FROM deliveries WHERE notification = $1", nid)
        assert [r["reason"] for r in reasons] == ["QuietHours"]
        assert sum(topo.pushes().values()) == 0

        for name in topo.workers():
            topo.procs[name].kill()
        # The window ends (its end moved to now, and the person's quiet hours over) with no worker alive.
        assert not topo.gql(PREFS, {"a": app_id, "q": None}, auth=key).get("errors")
        topo.query("UPDATE deliveries SET next_attempt_at = now() - interval '1 second'"
                   " WHERE notification = $1 AND status = 'HELD' RETURNING id", nid)
        time.sleep(2)  # the scheduler's sweeps run meanwhile: nothing can send yet
        assert sum(topo.pushes().values()) == 0
        topo.start_worker("worker0")
        topo.start_worker("worker1")
        _wait(topo, "every held delivery sent",
              lambda: set(_statuses(topo, nid)) <= {"SENT", "DELIVERED"} and sum(_statuses(topo, nid).values())
              == DEVICES, 90)
        pushes = topo.pushes()
        assert [pushes.get((nid, token), 0) for token in tokens] == [1] * DEVICES, pushes

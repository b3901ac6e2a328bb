"""Person.online across API processes: a device's live stream on one `booper serve` makes its
person online when asked on another (presence lives in Redis), and offline once it closes. A
direct send made on one process reaches the device's stream on the other."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from tests.e2e.test_trust_topology import _open, gql
from tests.e2e.test_trust_topology import two_apis as two_apis  # noqa: PLC0414 - the fixture, used by name

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]
ONLINE = "query($a: ID!) { person(appId: $a, identifier: \"user-42\") { online devices { id } } }"


def _online(url: str, app_id: str, key: str) -> bool:
    return gql(url, ONLINE, {"a": app_id}, auth=key)["person"]["online"]


def _wait_online(url: str, app_id: str, key: str, expected: bool, within: float = 5.0) -> float:
    started = time.monotonic()
    while _online(url, app_id, key) is not expected:
        assert time.monotonic() - started < within, f"person.online never became {expected}"
        time.sleep(0.1)
    return time.monotonic() - started


def test_a_persons_presence_and_direct_sends_cross_api_processes(two_apis):
    url_a, url_b = two_apis
    jwt = gql(url_a, 'mutation { signUp(email: "p@example.com", password: "correct horse") { token } }')[
        "signUp"]["token"]
    created = gql(url_a, 'mutation { createApp(name: "P") { app { id } apiKey { secret } } }', auth=jwt)["createApp"]
    app_id, key = created["app"]["id"], created["apiKey"]["secret"]
    token = "ExponentPushToken[presence-e2e]"
    registered = gql(url_a, "mutation($t: String!) { registerDevice(input: {platform: EXPO, token: $t,"
                     ' identifier: "user-42"}) { deviceKey } }', {"t": token}, auth=key)["registerDevice"]
    assert _online(url_a, app_id, key) is False

    async def scenario() -> tuple[str, float]:
        ws = await _open(url_b, {"deviceKey": registered["deviceKey"]})
        try:
            await ws.send(json.dumps({"id": "s", "type": "subscribe", "payload": {
                "query": "subscription($t: String) { notifications(deviceToken: $t) { title channel { id } } }",
                "variables": {"t": token}}}))
            took = await asyncio.to_thread(_wait_online, url_a, app_id, key, True)
            await asyncio.to_thread(gql, url_a, 'mutation { sendNotification(input: {identifiers: ["user-42"],'
                                    ' title: "for you"}) { id } }', auth=key)
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert message["type"] == "next" and not message["payload"].get("errors"), message
            return message["payload"]["data"]["notifications"]["title"], took
        finally:
            await ws.close()

    title, took = asyncio.run(scenario())
    assert title == "for you"
    # The stream closed: offline on both processes (each waits, and fails, within 5 s).
    _wait_online(url_b, app_id, key, False)
    _wait_online(url_a, app_id, key, False)
    print(f"online on the other process after {took:.2f} s")

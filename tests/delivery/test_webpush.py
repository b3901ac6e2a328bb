"""Web Push end to end through the sandbox push service: encrypted, VAPID-signed, headers, 410."""

from __future__ import annotations

import json

from api.providers.webpush import topic_from_collapse_key
from tests.delivery.helpers import (
    delivery_rows,
    device_row,
    eventually_sync,
    send,
    setup_channel,
    wait_deliveries,
    wait_status,
)
from tests.support import factories as f


def sub_id(device: dict) -> str:
    return device["token"].rsplit("/", 1)[1]


async def _web_channel(api, sandbox, n: int = 1):
    app, channel, _ = await setup_channel(api, expo=0)
    devices = []
    for _ in range(n):
        device = await f.make_web_device(api, sandbox)
        await f.subscribe(api, device, channel)
        devices.append(device)
    return app, channel, devices


async def test_payload_is_decrypted_by_the_browser_as_sent_with_headers(api, sandbox):
    app, channel, (device,) = await _web_channel(api, sandbox)
    sent = await send(
        api,
        app,
        channelId=channel["id"],
        title="Hello",
        body="Wörld",
        data={"a": [1, 2]},
        priority="HIGH",
        ttl=120,
        collapseKey="news",
    )
    (row,) = await wait_deliveries(sent["id"], "DELIVERED", count=1)
    assert row["attempts"] == 1
    assert row["error"] is None
    await wait_status(sent["id"], "COMPLETED")  # Web Push 201 is final: no receipts
    (message,) = sandbox.messages(to=sub_id(device))
    assert json.loads(message["payload"]) == {
        "id": sent["id"],
        "channel": channel["name"],
        "title": "Hello",
        "body": "Wörld",
        "data": {"a": [1, 2]},
    }
    assert message["headers"] == {"ttl": 120, "urgency": "high", "topic": "news"}


async def test_default_headers_and_a_derived_topic(api, sandbox):
    app, channel, (device,) = await _web_channel(api, sandbox)
    key = "score update: match #7 (second half)"  # not usable as a Topic as it is
    sent = await send(api, app, channelId=channel["id"], body="b", collapseKey=key)
    await wait_deliveries(sent["id"], "DELIVERED", count=1)
    plain = await send(api, app, channelId=channel["id"], body="c", priority="NORMAL", ttl=0)
    await wait_deliveries(plain["id"], "DELIVERED", count=1)
    first, second = sandbox.messages(to=sub_id(device))
    topic = first["headers"]["topic"]
    assert topic == topic_from_collapse_key(key)
    assert len(topic) == 32
    assert first["headers"]["urgency"] == "normal"
    assert first["headers"]["ttl"] == 28 * 24 * 3600  # none given: the longest push services keep
    assert second["headers"] == {"ttl": 0, "urgency": "normal", "topic": None}


async def test_many_subscriptions_each_get_their_own_payload_once(api, sandbox, api_server):
    app, channel, devices = await _web_channel(api, sandbox, n=12)
    sent = await send(api, app, channelId=channel["id"], title="all")
    await wait_deliveries(sent["id"], "DELIVERED", count=12)
    await api_server.settle()
    for d in devices:
        (message,) = sandbox.messages(to=sub_id(d))
        assert json.loads(message["payload"])["title"] == "all"


async def test_gone_subscription_fails_and_deactivates_the_device(api, sandbox):
    app, channel, (gone, alive) = await _web_channel(api, sandbox, n=2)
    sandbox.control.delete(
        f"/webpush/subscriptions/{sub_id(gone)}"
    ).raise_for_status()  # browser unsubscribed
    first = await send(api, app, channelId=channel["id"], title="one")
    rows = {
        r["device"]: r for r in await wait_deliveries(first["id"], "FAILED", "DELIVERED", count=2)
    }
    assert rows[int(gone["id"])]["status"] == "FAILED"
    assert rows[int(gone["id"])]["error"] == "http_410"
    assert rows[int(gone["id"])]["attempts"] == 1
    assert rows[int(alive["id"])]["status"] == "DELIVERED"
    assert (await device_row(gone["id"]))["active"] is False
    assert (await device_row(gone["id"]))["inactive_reason"] == "http_410"

    second = await send(api, app, channelId=channel["id"], title="two")
    await wait_status(second["id"], "COMPLETED")
    assert [r["device"] for r in await delivery_rows(second["id"])] == [int(alive["id"])]


async def test_injected_404_and_410_deactivate(api, sandbox):
    app, channel, (a, b) = await _web_channel(api, sandbox, n=2)
    sandbox.faults(
        {"provider": "webpush", "match": sub_id(a), "fault": "http_404"},
        {"provider": "webpush", "match": sub_id(b), "fault": "http_410"},
    )
    sent = await send(api, app, channelId=channel["id"], title="x")
    rows = await wait_deliveries(sent["id"], "FAILED", count=2)
    assert sorted(r["error"] for r in rows) == ["http_404", "http_410"]
    assert (await device_row(a["id"]))["active"] is False
    assert (await device_row(b["id"]))["active"] is False


async def test_413_fails_the_message_and_keeps_the_device(api, sandbox):
    app, channel, (device,) = await _web_channel(api, sandbox)
    sandbox.faults({"provider": "webpush", "match": sub_id(device), "fault": "http_413"})
    sent = await send(api, app, channelId=channel["id"], title="x")
    (row,) = await wait_deliveries(sent["id"], "FAILED", count=1)
    assert row["error"] == "http_413"
    assert row["attempts"] == 1
    assert (await device_row(device["id"]))["active"] is True


async def test_mixed_channel_expo_and_web(api, sandbox):
    app, channel, (expo,) = await setup_channel(api, expo=1)
    web = await f.make_web_device(api, sandbox)
    await f.subscribe(api, web, channel)
    sent = await send(api, app, channelId=channel["id"], title="both")
    await wait_deliveries(sent["id"], "DELIVERED", count=2)
    assert len(sandbox.messages(to=expo["token"])) == 1
    await eventually_sync(lambda: sandbox.messages(to=sub_id(web)), what="web push message")


async def test_web_push_public_key_is_what_the_sender_signs_with(api, sandbox):
    key = (await api.ok("{ webPushPublicKey }"))["webPushPublicKey"]
    sub = sandbox.subscribe(application_server_key=key)  # the sandbox enforces this key
    device = (
        await api.ok(
            "mutation($t: String!, $p: String!, $a: String!) {"
            " registerDevice(input: {platform: WEB, token: $t,"
            " webPushKeys: {p256dh: $p, auth: $a}}) { device { id token } deviceKey } }",
            {"t": sub["endpoint"], "p": sub["keys"]["p256dh"], "a": sub["keys"]["auth"]},
        )
    )["registerDevice"]["device"]
    app, channel, _ = await setup_channel(api, expo=0)
    await f.subscribe(api, device, channel)
    sent = await send(api, app, channelId=channel["id"], title="signed")
    await wait_deliveries(sent["id"], "DELIVERED", count=1)
    assert len(sandbox.messages(to=sub["id"])) == 1

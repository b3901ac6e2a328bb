"""Read state belongs to the person: read on one device is read on all, the unread count drops,
pushes to their other devices not yet gone out are SKIPPED (ReadElsewhere), badges count unread."""

from __future__ import annotations

from tests.delivery.helpers import send, wait_deliveries, wait_status
from tests.people.support import device_of, person
from tests.support import factories as f

MARK = "mutation($t: String!, $n: [ID!]!) { markRead(deviceToken: $t, notificationIds: $n) }"
READ = "query($t: String!, $n: ID!) { notification(id: $n, deviceToken: $t) { read } }"
COUNTS = (
    "query($n: ID!) { notification(id: $n) { deliveryCounts { pending sent delivered failed skipped } } }"
)
DELIVERIES = "query($n: ID!) { deliveries(notificationId: $n) { nodes { status reason device { id } } } }"


async def test_read_on_one_device_is_read_on_all_of_the_persons_devices(api, sandbox):
    app = await f.make_app(api)
    phone, tablet = await device_of(api, app, "user-42"), await device_of(api, app, "user-42")
    sent = await send(api, app, identifiers=["user-42"], title="hi")
    await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=2)
    assert (await person(api, app, "user-42"))["unreadCount"] == 1
    assert (await api.ok(MARK, {"t": phone["token"], "n": [sent["id"]]}))["markRead"] == 1
    for device in (phone, tablet):
        assert (await api.ok(READ, {"t": device["token"], "n": sent["id"]}))["notification"]["read"] is True
    assert (await person(api, app, "user-42"))["unreadCount"] == 0


async def test_a_channel_send_read_on_one_device_is_read_for_the_person(api, sandbox):
    app = await f.make_app(api)
    channel = await f.make_channel(api, app)
    phone, tablet = await device_of(api, app, "user-42"), await device_of(api, app, "user-42")
    for device in (phone, tablet):
        await f.subscribe(api, device, channel)
    sent = await send(api, app, channelId=channel["id"], title="news")
    await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=2)
    assert (await person(api, app, "user-42"))["unreadCount"] == 1
    await api.ok(MARK, {"t": tablet["token"], "n": [sent["id"]]})
    assert (await api.ok(READ, {"t": phone["token"], "n": sent["id"]}))["notification"]["read"] is True
    assert (await person(api, app, "user-42"))["unreadCount"] == 0


async def test_pushes_not_yet_gone_out_to_the_other_devices_are_skipped(api, sandbox):
    app = await f.make_app(api)
    browser = await device_of(api, app, "user-42", web_sandbox=sandbox)
    phone = await device_of(api, app, "user-42")
    # Expo answers 429 with Retry-After 30 s: the phone's push waits, PENDING, for its retry.
    sandbox.faults({"provider": "expo", "fault": "http_429", "retry_after": 30})
    sent = await send(api, app, identifiers=["user-42"], title="hi")

    async def settled():
        rows = await api.ok(DELIVERIES, {"n": sent["id"]}, api_key=app.api_key)
        by_device = {n["device"]["id"]: n for n in rows["deliveries"]["nodes"]}
        waiting = by_device.get(phone["id"], {}).get("status") == "PENDING"
        return by_device if waiting and by_device.get(browser["id"], {}).get("status") == "DELIVERED" else None

    from tests.delivery.helpers import eventually

    await eventually(settled, what="browser delivered, phone waiting to retry")
    await api.ok(MARK, {"t": browser["token"], "n": [sent["id"]]})
    by_device = await settled_rows(api, app, sent["id"])
    assert by_device[phone["id"]] == {"status": "SKIPPED", "reason": "ReadElsewhere", "device": {"id": phone["id"]}}
    assert by_device[browser["id"]]["status"] == "DELIVERED"
    counts = (await api.ok(COUNTS, {"n": sent["id"]}, api_key=app.api_key))["notification"]["deliveryCounts"]
    assert counts == {"pending": 0, "sent": 0, "delivered": 1, "failed": 0, "skipped": 1}
    await wait_status(sent["id"], "COMPLETED")  # SKIPPED is final
    sandbox.faults()
    assert sandbox.messages(to=phone["token"]) == []


async def settled_rows(api, app, nid) -> dict:
    rows = await api.ok(DELIVERIES, {"n": nid}, api_key=app.api_key)
    return {n["device"]["id"]: n for n in rows["deliveries"]["nodes"]}


async def test_expo_and_web_push_carry_the_persons_unread_count_as_badge(api, sandbox):
    import json

    app = await f.make_app(api)
    phone = await device_of(api, app, "user-42")
    browser = await device_of(api, app, "user-42", web_sandbox=sandbox)
    endpoint_id = browser["token"].rsplit("/", 1)[1]
    first = await send(api, app, identifiers=["user-42"], title="one")
    await wait_deliveries(first["id"], "SENT", "DELIVERED", count=2)
    second = await send(api, app, identifiers=["user-42"], title="two")
    await wait_deliveries(second["id"], "SENT", "DELIVERED", count=2)
    assert [m["message"]["badge"] for m in sandbox.messages(to=phone["token"])] == [1, 2]
    assert [json.loads(m["payload"])["badge"] for m in sandbox.messages(to=endpoint_id)] == [1, 2]

    await api.ok(MARK, {"t": phone["token"], "n": [first["id"], second["id"]]})
    third = await send(api, app, identifiers=["user-42"], title="three")
    await wait_deliveries(third["id"], "SENT", "DELIVERED", count=2)
    explicit = await send(api, app, identifiers=["user-42"], title="four", badge=7)
    await wait_deliveries(explicit["id"], "SENT", "DELIVERED", count=2)
    assert [m["message"]["badge"] for m in sandbox.messages(to=phone["token"])] == [1, 2, 1, 7]
    assert [json.loads(m["payload"])["badge"] for m in sandbox.messages(to=endpoint_id)] == [1, 2, 1, 7]


async def test_a_device_without_a_person_gets_no_badge_unless_the_send_sets_one(api, sandbox):
    app = await f.make_app(api)
    channel = await f.make_channel(api, app)
    device = await f.make_expo_device(api)
    await f.subscribe(api, device, channel)
    plain = await send(api, app, channelId=channel["id"], title="plain")
    await wait_deliveries(plain["id"], "SENT", "DELIVERED", count=1)
    badged = await send(api, app, channelId=channel["id"], title="badged", badge=3)
    await wait_deliveries(badged["id"], "SENT", "DELIVERED", count=1)
    assert [m["message"].get("badge") for m in sandbox.messages(to=device["token"])] == [None, 3]


async def test_a_notification_at_the_size_limit_goes_out_without_the_badge_it_has_no_room_for(api, sandbox):
    app = await f.make_app(api)
    phone = await device_of(api, app, "user-42")
    browser = await device_of(api, app, "user-42", web_sandbox=sandbox)
    # The largest body a channel send of the longest name may have (tests/delivery/test_send.py).
    sent = await send(api, app, identifiers=["user-42"], body="é" * 1900)
    await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=2)
    (message,) = [m["message"] for m in sandbox.messages(to=phone["token"])]
    assert "badge" not in message and message["body"] == "é" * 1900
    small = await send(api, app, identifiers=["user-42"], title="small")
    await wait_deliveries(small["id"], "SENT", "DELIVERED", count=2)
    assert [m["message"].get("badge") for m in sandbox.messages(to=phone["token"])] == [None, 2]
    assert len(sandbox.messages(to=browser["token"].rsplit("/", 1)[1])) == 2

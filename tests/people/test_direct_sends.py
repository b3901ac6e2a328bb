"""sendNotification to persons and to devices: the same ledger, idempotency, scheduling, quotas and
inbox as channel sends, and the refusals (nothing written)."""

from __future__ import annotations

import datetime as dt
import json

from api.delivery import fanout
from api.devices.tables import Device
from api.notifications.tables import Delivery, Notification
from api.people.tables import NotificationDevice, NotificationPerson, Person
from tests.api.conftest import row_counts
from tests.delivery.helpers import delivery_rows, send, send_error, wait_deliveries, wait_status
from tests.people.support import device_of, identify, person
from tests.support import factories as f

DIRECT = (
    "mutation($i: SendNotificationInput!) { sendNotification(input: $i) { id status channel { id }"
    " identifiers deliveryCounts { pending skipped } } }"
)
INBOX = "query($t: String) { notifications(deviceToken: $t) { nodes { id title channel { id } read } } }"


def sub_id(device: dict) -> str:
    return device["token"].rsplit("/", 1)[1]


async def test_one_call_notifies_a_person_on_all_their_devices(api, sandbox):
    app = await f.make_app(api)
    phone = await device_of(api, app, "user-42")
    browser = await device_of(api, app, "user-42", web_sandbox=sandbox)
    stranger = await device_of(api, app, "user-7")
    data = await api.ok(DIRECT, {"i": {"identifiers": ["user-42"], "title": "hi"}}, api_key=app.api_key)
    sent = data["sendNotification"]
    assert sent["channel"] is None and sent["identifiers"] == ["user-42"]
    rows = await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=2)
    assert sorted(r["device"] for r in rows) == sorted(int(d["id"]) for d in (phone, browser))
    assert len({r["person"] for r in rows}) == 1 and rows[0]["person"] is not None
    assert [m["message"]["title"] for m in sandbox.messages(to=phone["token"])] == ["hi"]
    assert json.loads(sandbox.messages(to=sub_id(browser))[0]["payload"])["title"] == "hi"
    assert sandbox.messages(to=stranger["token"]) == []
    # In the person's devices' inboxes, not in others'.
    for device in (phone, browser):
        nodes = (await api.ok(INBOX, {"t": device["token"]}))["notifications"]["nodes"]
        assert [(n["id"], n["channel"]) for n in nodes] == [(sent["id"], None)]
    assert (await api.ok(INBOX, {"t": stranger["token"]}))["notifications"]["nodes"] == []
    await wait_status(sent["id"], "SENT", "COMPLETED")


async def test_a_send_to_several_persons_reaches_each_once(api, sandbox):
    app = await f.make_app(api)
    devices = [await device_of(api, app, f"p{i}") for i in range(3)]
    sent = await send(api, app, identifiers=["p0", "p1", "p2", "p1", "nobody-yet"], title="all")
    rows = await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=3)
    assert sorted(r["device"] for r in rows) == sorted(int(d["id"]) for d in devices)
    data = await api.ok("query($n: ID!) { notification(id: $n) { identifiers } }", {"n": sent["id"]},
                        api_key=app.api_key)
    # Who it went to: the persons of the app; an identifier naming none is left out.
    assert data["notification"]["identifiers"] == ["p0", "p1", "p2"]


async def test_identifiers_naming_no_person_create_none_and_reach_nobody(api, sandbox):
    """A typo, a user not linked yet, a person erased: an API key cannot grow the app's persons by
    sending, and an erased identifier is not written again."""
    app = await f.make_app(api)
    await device_of(api, app, "user-42")
    before = await row_counts()
    data = await api.ok(DIRECT, {"i": {"identifiers": ["user-4200", "nobody"], "title": "typo"}}, api_key=app.api_key)
    sent = data["sendNotification"]
    assert sent["identifiers"] is None  # nobody: the send names no person of the app
    await wait_status(sent["id"], "COMPLETED")
    assert await Delivery.count().where(Delivery.notification == int(sent["id"])) == 0
    assert await person(api, app, "user-4200") is None and await person(api, app, "nobody") is None
    after = await row_counts()
    assert after["persons"] == before["persons"] and after["notification_persons"] == before["notification_persons"]

    await api.ok("mutation($a: ID!, $p: String!) { erasePerson(appId: $a, identifier: $p) }",
                 {"a": app.id, "p": "user-42"}, api_key=app.api_key)
    data = await api.ok(DIRECT, {"i": {"identifiers": ["user-42"], "title": "after erasure"}}, api_key=app.api_key)
    assert data["sendNotification"]["identifiers"] is None
    assert await person(api, app, "user-42") is None


async def test_a_send_to_devices_reaches_those_devices_of_the_app(api, sandbox):
    app = await f.make_app(api)
    a, b = await device_of(api, app, "x"), await device_of(api, app, "y")
    sent = await send(api, app, deviceIds=[a["id"]], title="only a")
    rows = await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=1)
    assert rows[0]["device"] == int(a["id"])
    assert sandbox.messages(to=b["token"]) == []
    nodes = (await api.ok(INBOX, {"t": a["token"]}))["notifications"]["nodes"]
    assert [n["id"] for n in nodes] == [sent["id"]]
    assert (await api.ok(INBOX, {"t": b["token"]}))["notifications"]["nodes"] == []


async def test_direct_sends_are_refused_with_codes_and_write_nothing(api, sandbox):
    app, other = await f.make_app(api), await f.make_app(api)
    channel = await f.make_channel(api, app)
    mine = await device_of(api, app, "me")
    theirs = await device_of(api, other, "them")
    before = await row_counts()
    cases = [
        ({"identifiers": ["me"], "channelId": channel["id"], "title": "t"}, app, "BAD_USER_INPUT"),
        ({"identifiers": ["me"], "deviceIds": [mine["id"]], "title": "t"}, app, "BAD_USER_INPUT"),
        ({"title": "no target"}, app, "BAD_USER_INPUT"),
        ({"identifiers": [], "title": "t"}, app, "BAD_USER_INPUT"),
        ({"identifiers": [f"u{i}" for i in range(1001)], "title": "t"}, app, "BAD_USER_INPUT"),
        ({"deviceIds": [str(i) for i in range(1001)], "title": "t"}, app, "BAD_USER_INPUT"),
        ({"identifiers": ["x" * 129], "title": "t"}, app, "BAD_USER_INPUT"),
        ({"deviceIds": [theirs["id"]], "title": "t"}, app, "NOT_FOUND"),  # another app's device
        ({"deviceIds": [mine["id"], "987654"], "title": "t"}, app, "NOT_FOUND"),
        ({"identifiers": ["me"], "title": "t", "badge": -1}, app, "BAD_USER_INPUT"),
        ({"identifiers": ["me"], "body": "x" * 5000}, app, "PAYLOAD_TOO_LARGE"),
        ({"identifiers": ["me"], "title": "t"}, None, "UNAUTHENTICATED"),
    ]
    for fields, sender, code in cases:
        error = await send_error(api, sender, **fields)
        assert error["extensions"]["code"] == code, (fields, error)
    # A dashboard user names the app; without appId there is none to send for.
    error = await send_error(api, None, token=app.owner.token, identifiers=["me"], title="t")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    error = await send_error(api, None, token=other.owner.token, identifiers=["me"], title="t", appId=app.id)
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert await row_counts() == before
    assert sandbox.messages() == []


async def test_the_owner_sends_to_a_person_with_app_id(api, sandbox):
    app = await f.make_app(api)
    phone = await device_of(api, app, "user-42")
    sent = await send(api, None, token=app.owner.token, identifiers=["user-42"], title="from the dashboard",
                      appId=app.id)
    await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=1)
    assert len(sandbox.messages(to=phone["token"])) == 1


async def test_direct_sends_are_idempotent_scheduled_and_take_quota(api, sandbox, settings):
    app = await f.make_app(api)
    phone = await device_of(api, app, "user-42")
    first = await send(api, app, identifiers=["user-42"], title="once", idempotencyKey="k1")
    again = await send(api, app, identifiers=["user-42"], title="once", idempotencyKey="k1")
    assert again["id"] == first["id"]
    await wait_deliveries(first["id"], "SENT", "DELIVERED", count=1)
    assert len(sandbox.messages(to=phone["token"])) == 1

    later = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)).isoformat()
    scheduled = await send(api, app, identifiers=["user-42"], title="later", sendAt=later)
    assert scheduled["status"] == "SCHEDULED" and await delivery_rows(scheduled["id"]) == []
    await wait_deliveries(scheduled["id"], "SENT", "DELIVERED", count=1, within=8)

    settings.quota_free = 3  # two sent today: the third is the last
    await send(api, app, identifiers=["user-42"], title="third")
    error = await send_error(api, app, identifiers=["user-42"], title="fourth")
    assert error["extensions"]["code"] == "QUOTA_EXCEEDED"


async def test_identifiers_of_a_direct_send_are_for_the_app_only(api, sandbox):
    app = await f.make_app(api)
    phone = await device_of(api, app, "user-42")
    sent = await send(api, app, identifiers=["user-42"], title="hi")
    await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=1)
    data = await api.ok("query($t: String!, $n: ID!) { notification(id: $n, deviceToken: $t) { identifiers } }",
                        {"t": phone["token"], "n": sent["id"]})
    assert data["notification"]["identifiers"] is None


async def test_a_device_unlinked_from_the_person_gets_later_sends_no_more(api, sandbox):
    app = await f.make_app(api)
    phone = await device_of(api, app, "user-42")
    await identify(api, app, phone, None)
    sent = await send(api, app, identifiers=["user-42"], title="hi")
    await wait_status(sent["id"], "COMPLETED")
    assert await Delivery.count().where(Delivery.notification == int(sent["id"])) == 0


async def test_a_send_to_persons_pages_by_person_and_device_and_resumes_where_it_stopped(
    api, sandbox, runtime, api_server, monkeypatch
):
    """Pages of at most PAGE rows (2 here) keyed by (person, device): a person with three devices
    spans two pages, persons with no usable device are passed over, and a resumed fan-out starts
    after the (person, device) it had reached, within a person too."""
    monkeypatch.setattr(fanout, "PAGE", 2)
    app = await f.make_app(api)
    first = [await device_of(api, app, "p0") for _ in range(2)]
    gone = [await device_of(api, app, f"p{i}") for i in range(1, 5)]
    await Device.update({Device.active: False}).where(Device.id.is_in([int(d["id"]) for d in gone]))
    later = [await device_of(api, app, "p5"), *[await device_of(api, app, "p6") for _ in range(3)]]
    sent = await send(api, app, identifiers=[f"p{i}" for i in range(7)], title="paged")
    rows = await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=6)
    assert sorted(r["device"] for r in rows) == sorted(int(d["id"]) for d in [*first, *later])
    done = await wait_status(sent["id"], "SENT", "COMPLETED")
    persons = {r["identifier"]: r["id"] for r in await Person.select(Person.id, Person.identifier)
               .where(Person.app == int(app.id))}
    assert done["fanout_done"] is True
    assert (done["fanout_cursor"], done["fanout_cursor_device"]) == (persons["p6"], max(int(d["id"]) for d in later))
    await api_server.settle()

    # Lose every delivery, as if the worker died after p0's first device, and run the fan-out
    # again from there: p0's second device and the later persons' are made again, p0's first not.
    await Delivery.delete().where(Delivery.notification == int(sent["id"]))
    p0_first = min(int(d["id"]) for d in first)
    await Notification.update({
        Notification.fanout_done: False, Notification.fanout_cursor: persons["p0"],
        Notification.fanout_cursor_device: p0_first,
        Notification.status: "QUEUED", Notification.kicked_at: dt.datetime.now(dt.UTC),
    }).where(Notification.id == int(sent["id"]))
    assert await fanout.fan_out(runtime, int(sent["id"])) == 5
    again = await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=5)
    assert sorted(r["device"] for r in again) == sorted(int(d["id"]) for d in [*first, *later] if int(d["id"]) != p0_first)
    await api_server.settle()
    for d in [*first, *later]:
        assert len(sandbox.messages(to=d["token"])) == (1 if int(d["id"]) == p0_first else 2)
    for d in gone:
        assert sandbox.messages(to=d["token"]) == []


async def test_a_deleted_notification_takes_its_recipients_with_it(api, sandbox):
    """On PostgreSQL the recipients follow their notification by a statement trigger, not a key
    (migrations/booper_2026_11_30t16_30_00_000000.py): deleted with it, directly or through its
    app's deletion."""
    app = await f.make_app(api)
    a, b = await device_of(api, app, "ann"), await device_of(api, app, "ben")
    to_persons = await send(api, app, identifiers=["ann", "ben"], title="persons")
    to_devices = await send(api, app, deviceIds=[a["id"], b["id"]], title="devices")
    kept = await send(api, app, identifiers=["ann"], title="kept")
    for sent in (to_persons, to_devices, kept):
        await wait_status(sent["id"], "COMPLETED")

    async def recipients(notification: dict) -> int:
        nid = int(notification["id"])
        return (await NotificationPerson.count().where(NotificationPerson.notification == nid)
                + await NotificationDevice.count().where(NotificationDevice.notification == nid))

    assert [await recipients(n) for n in (to_persons, to_devices, kept)] == [2, 2, 1]
    await Notification.delete().where(Notification.id.is_in([int(to_persons["id"]), int(to_devices["id"])]))
    assert [await recipients(n) for n in (to_persons, to_devices, kept)] == [0, 0, 1]
    await api.ok("mutation($id: ID!) { deleteApp(id: $id) }", {"id": app.id}, token=app.owner.token)
    assert await recipients(kept) == 0

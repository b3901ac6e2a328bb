"""Preferences: muted channels and quiet hours per person (or per device of no person), set by
the app or by the device, applied per send batch: SKIPPED Muted, HELD QuietHours until the
window's end, then sent, expired or skipped as read elsewhere; critical bypasses quiet hours.

Quiet hours here are a window around the real clock (the server runs on it); the window
arithmetic itself (zones, midnight, DST) is tested with an injected clock in test_quiet_hours.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from api.notifications.tables import Delivery
from tests.delivery.helpers import eventually, send, setup_channel, wait_deliveries
from tests.people.support import device_of
from tests.support import factories as f

SET = ("mutation($a: ID!, $p: String, $t: String, $i: PreferencesInput!) { setPreferences(appId: $a,"
       " identifier: $p, deviceToken: $t, input: $i) { mutedChannels { id name } quietHours { start end timeZone } } }")
GET = ("query($a: ID!, $p: String, $t: String) { preferences(appId: $a, identifier: $p, deviceToken: $t)"
       " { mutedChannels { id } quietHours { start end timeZone } } }")


def around_now(minutes_before: int = 60, minutes_after: int = 60) -> dict:
    now = dt.datetime.now(dt.UTC)
    start, end = now - dt.timedelta(minutes=minutes_before), now + dt.timedelta(minutes=minutes_after)
    return {"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M"), "timeZone": "UTC"}


async def _person_on_channel(api, identifier: str = "ann"):
    app, channel, _ = await setup_channel(api, expo=0)
    device = await device_of(api, app, identifier)
    await f.subscribe(api, device, channel)
    return app, channel, device


async def _rows(nid: str) -> list[dict]:
    return await Delivery.select().where(Delivery.notification == int(nid))


async def test_the_app_and_the_device_set_and_read_the_same_preferences(api, sandbox):
    app, channel, device = await _person_on_channel(api)
    quiet = {"start": "22:00", "end": "07:00", "timeZone": "Europe/Berlin"}
    data = await api.ok(SET, {"a": app.id, "p": "ann", "i": {"mutedChannelIds": [channel["id"]], "quietHours": quiet}},
                        api_key=app.api_key)
    assert data["setPreferences"] == {"mutedChannels": [{"id": channel["id"], "name": channel["name"]}],
                                      "quietHours": quiet}
    # The device (with its key) reads its person's preferences, and changes one part of them.
    seen = await api.ok(GET, {"a": app.id, "t": device["token"]})
    assert seen["preferences"] == {"mutedChannels": [{"id": channel["id"]}], "quietHours": quiet}
    changed = await api.ok(SET, {"a": app.id, "t": device["token"], "i": {"mutedChannelIds": []}})
    assert changed["setPreferences"] == {"mutedChannels": [], "quietHours": quiet}
    cleared = await api.ok(SET, {"a": app.id, "p": "ann", "i": {"quietHours": None}}, api_key=app.api_key)
    assert cleared["setPreferences"] == {"mutedChannels": [], "quietHours": None}
    person = await api.ok("query($a: ID!) { person(appId: $a, identifier: \"ann\") { preferences"
                          " { mutedChannels { id } quietHours { start } } } }", {"a": app.id}, api_key=app.api_key)
    assert person["person"]["preferences"] == {"mutedChannels": [], "quietHours": None}


async def test_bad_preferences_are_refused_and_change_nothing(api, sandbox):
    app, channel, device = await _person_on_channel(api)
    other = await f.make_app(api)
    foreign = await f.make_channel(api, other)
    vip = await f.make_channel(api, app, visibility="PRIVATE")
    cases = [
        ({"a": app.id, "p": "ann", "i": {"quietHours": {"start": "25:00", "end": "07:00", "timeZone": "UTC"}}},
         {"api_key": app.api_key}, "BAD_USER_INPUT"),
        ({"a": app.id, "p": "ann", "i": {"quietHours": {"start": "22:00", "end": "07:00", "timeZone": "Nowhere/Land"}}},
         {"api_key": app.api_key}, "BAD_USER_INPUT"),
        ({"a": app.id, "p": "ann", "i": {"mutedChannelIds": [foreign["id"]]}}, {"api_key": app.api_key}, "NOT_FOUND"),
        ({"a": app.id, "p": "nobody", "i": {"mutedChannelIds": []}}, {"api_key": app.api_key}, "NOT_FOUND"),
        # A device cannot learn of a private channel it was not given by muting it.
        ({"a": app.id, "t": device["token"], "i": {"mutedChannelIds": [vip["id"]]}}, {}, "NOT_FOUND"),
        ({"a": app.id, "p": "ann", "t": device["token"], "i": {}}, {"api_key": app.api_key}, "BAD_USER_INPUT"),
        ({"a": other.id, "t": device["token"], "i": {"mutedChannelIds": []}}, {}, "NOT_FOUND"),
    ]
    for variables, auth, code in cases:
        error = await api.error(SET, variables, **auth)
        assert error["extensions"]["code"] == code, (variables, error)
    seen = await api.ok(GET, {"a": app.id, "p": "ann"}, api_key=app.api_key)
    assert seen["preferences"] == {"mutedChannels": [], "quietHours": None}


async def test_a_muted_channel_is_skipped_but_stays_in_the_inbox_unread(api, sandbox):
    app, channel, device = await _person_on_channel(api)
    await api.ok(SET, {"a": app.id, "p": "ann", "i": {"mutedChannelIds": [channel["id"]]}}, api_key=app.api_key)
    sent = await send(api, app, channelId=channel["id"], title="shh", critical=True)  # critical: still muted
    (row,) = await wait_deliveries(sent["id"], "SKIPPED", count=1)
    assert row["reason"] == "Muted"
    inbox = await api.ok("query($t: String) { notifications(deviceToken: $t) { nodes { id read } } }",
                         {"t": device["token"]})
    assert inbox["notifications"]["nodes"] == [{"id": sent["id"], "read": False}]
    counts = await api.ok("query($n: ID!) { notification(id: $n) { status deliveryCounts { skipped sent } } }",
                          {"n": sent["id"]}, api_key=app.api_key)
    assert counts["notification"]["deliveryCounts"] == {"skipped": 1, "sent": 0}
    await asyncio.sleep(0.2)
    assert sandbox.messages(to=device["token"]) == []


async def test_a_device_of_no_person_has_its_own_preferences(api, sandbox):
    app, channel, (device,) = await setup_channel(api)
    await api.ok(SET, {"a": app.id, "t": device["token"], "i": {"mutedChannelIds": [channel["id"]]}})
    other = await f.make_expo_device(api)
    await f.subscribe(api, other, channel)
    sent = await send(api, app, channelId=channel["id"], title="hi")
    rows = {r["device"]: r for r in await wait_deliveries(sent["id"], "SKIPPED", "SENT", "DELIVERED", count=2)}
    assert (rows[int(device["id"])]["status"], rows[int(device["id"])]["reason"]) == ("SKIPPED", "Muted")
    assert rows[int(other["id"])]["status"] in ("SENT", "DELIVERED")


async def test_quiet_hours_hold_until_the_window_ends_then_send(api, sandbox):
    app, channel, device = await _person_on_channel(api)
    window = around_now()
    await api.ok(SET, {"a": app.id, "p": "ann", "i": {"quietHours": window}}, api_key=app.api_key)
    sent = await send(api, app, channelId=channel["id"], title="later")
    (row,) = await wait_deliveries(sent["id"], "HELD", count=1)
    assert row["reason"] == "QuietHours"
    ends = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=60)
    assert abs((row["next_attempt_at"] - ends).total_seconds()) < 120  # HH:MM: to the minute
    status = await api.ok("query($n: ID!) { notification(id: $n) { status deliveryCounts { held } } }",
                          {"n": sent["id"]}, api_key=app.api_key)
    assert status["notification"] == {"status": "QUEUED", "deliveryCounts": {"held": 1}}
    await asyncio.sleep(0.5)  # sweeps pass: nothing is released early
    assert sandbox.messages(to=device["token"]) == []
    # The window ends (its end moved into the past, as the clock would): the sweep releases it.
    await Delivery.update({Delivery.next_attempt_at: dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)}).where(
        Delivery.id == row["id"])
    await api.ok(SET, {"a": app.id, "p": "ann", "i": {"quietHours": None}}, api_key=app.api_key)
    await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=1)
    assert len(sandbox.messages(to=device["token"])) == 1


async def test_critical_bypasses_quiet_hours(api, sandbox):
    app, channel, device = await _person_on_channel(api)
    alarms = await f.make_channel(api, app, name="alarms")
    await f.subscribe(api, device, alarms)
    await api.ok("mutation($c: ID!) { updateChannel(id: $c, critical: true) { id } }", {"c": alarms["id"]},
                 api_key=app.api_key)
    await api.ok(SET, {"a": app.id, "p": "ann", "i": {"quietHours": around_now()}}, api_key=app.api_key)
    by_send = await send(api, app, channelId=channel["id"], title="fire", critical=True)
    by_channel = await send(api, app, channelId=alarms["id"], title="smoke")
    ordinary = await send(api, app, channelId=channel["id"], title="newsletter")
    await wait_deliveries(by_send["id"], "SENT", "DELIVERED", count=1)
    await wait_deliveries(by_channel["id"], "SENT", "DELIVERED", count=1)
    await wait_deliveries(ordinary["id"], "HELD", count=1)


async def test_a_held_delivery_expires_or_is_skipped_when_read_elsewhere(api, sandbox):
    app, channel, phone = await _person_on_channel(api)
    laptop = await device_of(api, app, "ann")
    await f.subscribe(api, laptop, channel)
    await api.ok(SET, {"a": app.id, "p": "ann", "i": {"quietHours": around_now()}}, api_key=app.api_key)
    short = await send(api, app, channelId=channel["id"], title="flash sale", ttl=1)
    read = await send(api, app, channelId=channel["id"], title="hello")
    await wait_deliveries(short["id"], "HELD", count=2)
    await wait_deliveries(read["id"], "HELD", count=2)
    # Ann reads "hello" on her phone (the app shows the inbox) while both pushes wait.
    await api.ok("mutation($t: String!, $n: [ID!]!) { markRead(deviceToken: $t, notificationIds: $n) }",
                 {"t": phone["token"], "n": [read["id"]]})
    await asyncio.sleep(1.1)  # the flash sale's TTL runs out
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    await Delivery.update({Delivery.next_attempt_at: past}).where(Delivery.status == "HELD")
    await api.ok(SET, {"a": app.id, "p": "ann", "i": {"quietHours": None}}, api_key=app.api_key)
    expired = await wait_deliveries(short["id"], "FAILED", count=2)
    assert {r["error"] for r in expired} == {"Expired"}
    skipped = await wait_deliveries(read["id"], "SKIPPED", count=2)
    assert {r["reason"] for r in skipped} == {"ReadElsewhere"}
    assert sandbox.messages(to=phone["token"]) == [] and sandbox.messages(to=laptop["token"]) == []


async def test_preferences_are_read_once_per_batch(api, sandbox, monkeypatch):
    """Fifty devices of fifty persons, one send: the preferences query runs once per send batch."""
    from api.engagement import preferences

    app, channel, _ = await setup_channel(api, expo=0)
    for i in range(50):
        device = await device_of(api, app, f"p{i}")
        await f.subscribe(api, device, channel)
        if i % 2:
            await api.ok(SET, {"a": app.id, "p": f"p{i}", "i": {"mutedChannelIds": [channel["id"]]}},
                         api_key=app.api_key)
    calls = []
    original = preferences.for_owners

    async def counted(apps, persons, devices):
        calls.append(len(set(persons)) + len(set(devices)))
        return await original(apps, persons, devices)

    monkeypatch.setattr(preferences, "for_owners", counted)
    sent = await send(api, app, channelId=channel["id"], title="all")
    rows = await wait_deliveries(sent["id"], "SKIPPED", "SENT", "DELIVERED", count=50)
    assert sum(r["status"] == "SKIPPED" for r in rows) == 25
    await eventually(lambda: asyncio.sleep(0, result=sum(calls) == 50), what="one lookup per batch")
    assert len(calls) == 1


async def test_canceling_stops_held_deliveries(api, sandbox):
    app, channel, device = await _person_on_channel(api)
    await api.ok(SET, {"a": app.id, "p": "ann", "i": {"quietHours": around_now()}}, api_key=app.api_key)
    sent = await send(api, app, channelId=channel["id"], title="never mind")
    await wait_deliveries(sent["id"], "HELD", count=1)
    await api.ok("mutation($n: ID!) { cancelNotification(id: $n) { status } }", {"n": sent["id"]},
                 api_key=app.api_key)
    (row,) = await wait_deliveries(sent["id"], "FAILED", count=1)
    assert row["error"] == "Canceled"


async def test_a_device_neither_sees_nor_drops_private_channels_muted_for_its_person(api, sandbox):
    app, public, device = await _person_on_channel(api)
    secret = await f.make_channel(api, app, name="board-only", visibility="PRIVATE")
    await api.ok(SET, {"a": app.id, "p": "ann", "i": {"mutedChannelIds": [public["id"], secret["id"]]}},
                 api_key=app.api_key)
    # The device was never given the private channel: it does not exist for it.
    seen = await api.ok(GET, {"a": app.id, "t": device["token"]})
    assert seen["preferences"]["mutedChannels"] == [{"id": public["id"]}]
    # Replacing the list it sees leaves the app's mute of the channel it cannot see in place.
    await api.ok(SET, {"a": app.id, "t": device["token"], "i": {"mutedChannelIds": []}})
    by_app = await api.ok(GET, {"a": app.id, "p": "ann"}, api_key=app.api_key)
    assert by_app["preferences"]["mutedChannels"] == [{"id": secret["id"]}]

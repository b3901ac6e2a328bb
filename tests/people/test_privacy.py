"""exportPerson returns what Booper holds about a person; erasePerson leaves nothing anywhere that
names them (checked over every table), in one transaction; a device erases itself."""

from __future__ import annotations

import orjson

from api.piccolo_app import TABLES
from tests.delivery.helpers import eventually, send, wait_deliveries
from tests.people.support import device_of, person
from tests.support import factories as f

EXPORT = "query($a: ID!, $p: String!) { exportPerson(appId: $a, identifier: $p) }"
ERASE = "mutation($a: ID!, $p: String!) { erasePerson(appId: $a, identifier: $p) }"
MARK = "mutation($t: String!, $n: [ID!]!) { markRead(deviceToken: $t, notificationIds: $n) }"
SET_WEBHOOK = "mutation($a: ID!, $u: String!) { setWebhook(appId: $a, url: $u) { url } }"
WHO = "erase_me-7f3a%"  # LIKE wildcards in it: the scrub matches them as text


async def _person_with_history(api, sandbox, settings):
    """A person with two devices (one through an access code), a private channel grant, a
    direct send and a channel send, a read mark, a pending code, and a webhook that saw it all."""
    settings.webhook_allow_private = True
    app = await f.make_app(api)
    await api.ok(SET_WEBHOOK, {"a": app.id, "u": f"{sandbox.base_url}/webhooks/privacy"}, token=app.owner.token)
    vip = await f.make_channel(api, app, name="vip", visibility="PRIVATE")
    phone = await device_of(api, app, WHO)
    tablet = await f.make_expo_device(api)
    code = await f.access_code(api, app, ["vip"], identifier=WHO)
    await api.ok("mutation($c: String!, $t: String!) { redeemAccessCode(code: $c, deviceToken: $t) { id } }",
                 {"c": code["code"], "t": tablet["token"]})
    await f.access_code(api, app, ["vip"], identifier=WHO)  # not redeemed yet
    direct = await send(api, app, identifiers=[WHO], title="direct", data={"k": 1})
    await wait_deliveries(direct["id"], "SENT", "DELIVERED", count=2)
    news = await send(api, app, channelId=vip["id"], title="vip news")
    await wait_deliveries(news["id"], "SENT", "DELIVERED", count=1)
    await api.ok(MARK, {"t": phone["token"], "n": [direct["id"]]})
    return app, vip, phone, tablet, direct, news


async def test_export_holds_devices_channels_grants_notifications_outcomes_and_read_marks(api, sandbox, settings):
    app, vip, phone, tablet, direct, news = await _person_with_history(api, sandbox, settings)
    doc = (await api.ok(EXPORT, {"a": app.id, "p": WHO}, api_key=app.api_key))["exportPerson"]
    assert doc["identifier"] == WHO and doc["app"] == app.id
    devices = {d["id"]: d for d in doc["devices"]}
    assert set(devices) == {phone["id"], tablet["id"]}
    assert devices[phone["id"]]["tokenHint"] == phone["token"].rstrip("]")[-6:]
    assert "token" not in devices[phone["id"]]
    assert [c["name"] for c in devices[tablet["id"]]["channels"]] == ["vip"]
    assert [g["channel"] for g in devices[tablet["id"]]["grants"]] == ["vip"]
    notes = {n["id"]: n for n in doc["notifications"]}
    assert set(notes) == {direct["id"], news["id"]}
    assert notes[direct["id"]]["read"] is True and notes[news["id"]]["read"] is False
    assert notes[direct["id"]]["data"] == {"k": 1} and notes[direct["id"]]["channelId"] is None
    assert sorted(d["deviceId"] for d in notes[direct["id"]]["deliveries"]) == sorted([phone["id"], tablet["id"]])
    assert {d["status"] for d in notes[news["id"]]["deliveries"]} <= {"SENT", "DELIVERED"}
    assert doc["readMarks"] == [{"notificationId": direct["id"], "at": doc["readMarks"][0]["at"]}]
    assert doc["preferences"] == {"mutedChannelIds": [], "quietHours": None}  # none set
    other = await f.make_app(api)
    assert await api.code(EXPORT, {"a": app.id, "p": WHO}, api_key=other.api_key) == "NOT_FOUND"
    assert await api.code(EXPORT, {"a": app.id, "p": "nobody"}, api_key=app.api_key) == "NOT_FOUND"


async def _rows_naming(identifier: str) -> list[tuple[str, dict]]:
    """Every row of every table with a value that contains the identifier."""
    found = []
    for table in TABLES:
        for row in await table.raw(f"SELECT * FROM {table._meta.tablename}"):
            text = orjson.dumps(row, default=str).decode()
            if identifier in text:
                found.append((table._meta.tablename, row))
    return found


async def test_erase_leaves_no_row_naming_the_person(api, sandbox, settings):
    app, vip, phone, tablet, direct, news = await _person_with_history(api, sandbox, settings)
    assert await _rows_naming(WHO)  # the check can see the identifier where it is
    assert (await api.ok(ERASE, {"a": app.id, "p": WHO}, api_key=app.api_key))["erasePerson"] is True
    left = await _rows_naming(WHO)
    # The one exception: the person.erased event that tells the app's server whom to forget.
    assert [(t, r.get("event_type")) for t, r in left] == [("webhook_events", "person.erased")], left
    assert await person(api, app, WHO) is None
    # The ledger keeps the deliveries, unlinked; the devices stay, out of the private channel.
    data = await api.ok("query($n: ID!) { deliveries(notificationId: $n) { nodes { status } } }",
                        {"n": direct["id"]}, api_key=app.api_key)
    assert len(data["deliveries"]["nodes"]) == 2
    mine = await api.ok("query($t: String) { channels(deviceToken: $t) { name } }", {"t": tablet["token"]})
    assert mine["channels"] == []

    async def erased_event():
        got = [m["json"] for m in sandbox.messages(to="privacy") if m["json"]["type"] == "person.erased"]
        return got

    (event,) = await eventually(erased_event, within=10, what="person.erased webhook")
    assert event["data"] == {"identifier": WHO}
    assert (await api.ok(ERASE, {"a": app.id, "p": WHO}, api_key=app.api_key))["erasePerson"] is False


async def test_erase_is_for_the_apps_owner_or_key(api, sandbox):
    app, other = await f.make_app(api), await f.make_app(api)
    await device_of(api, app, WHO)
    assert await api.code(ERASE, {"a": app.id, "p": WHO}, api_key=other.api_key) == "NOT_FOUND"
    assert await api.code(ERASE, {"a": app.id, "p": WHO}) == "UNAUTHENTICATED"
    assert await person(api, app, WHO) is not None
    assert (await api.ok(ERASE, {"a": app.id, "p": WHO}, token=app.owner.token))["erasePerson"] is True


async def test_a_device_erases_itself_with_unregister_device(api, sandbox):
    app = await f.make_app(api)
    phone = await device_of(api, app, WHO)
    sent = await send(api, app, identifiers=[WHO], title="hi")
    await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=1)
    await api.ok(MARK, {"t": phone["token"], "n": [sent["id"]]})
    await api.ok("mutation($t: String!) { unregisterDevice(deviceToken: $t) }", {"t": phone["token"]})
    assert (await person(api, app, WHO))["devices"] == []
    from api.notifications.tables import ReadMark
    from api.people.tables import PersonDevice

    assert await ReadMark.count() == 0 and await PersonDevice.count() == 0


async def test_an_export_is_bounded_and_says_when_it_was_cut(api, sandbox, monkeypatch):
    """A person with a long history: each list keeps its newest entries up to the bound, and
    `truncated` says the document is not all there is (bounded work and memory per call)."""
    from api.people import privacy

    app = await f.make_app(api)
    phone = await device_of(api, app, "busy")
    sent = []
    for i in range(5):  # one at a time: each fan-out writes its delivery before the next send's
        sent.append(await send(api, app, identifiers=["busy"], title=f"n{i}"))
        await wait_deliveries(sent[-1]["id"], "SENT", "DELIVERED", count=1)
    await api.ok(MARK, {"t": phone["token"], "n": [n["id"] for n in sent]})
    whole = (await api.ok(EXPORT, {"a": app.id, "p": "busy"}, api_key=app.api_key))["exportPerson"]
    assert whole["truncated"] is False and whole["truncatedLists"] == []
    assert [n["title"] for n in whole["notifications"]] == [f"n{i}" for i in range(5)]

    monkeypatch.setattr(privacy, "EXPORT_LIMIT", 3)
    monkeypatch.setattr(privacy, "DELIVERY_LIMIT", 2)
    cut = (await api.ok(EXPORT, {"a": app.id, "p": "busy"}, api_key=app.api_key))["exportPerson"]
    assert cut["truncated"] is True and cut["truncatedLists"] == ["deliveries", "notifications", "readMarks"]
    assert [n["title"] for n in cut["notifications"]] == ["n2", "n3", "n4"]  # the newest, oldest first
    assert [n["title"] for n in cut["notifications"] if n["deliveries"]] == ["n3", "n4"]
    assert [r["notificationId"] for r in cut["readMarks"]] == [n["id"] for n in sent[2:]]
    assert [d["id"] for d in cut["devices"]] == [phone["id"]]

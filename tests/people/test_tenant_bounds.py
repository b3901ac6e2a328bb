"""What one app can never do to another's devices and persons, whatever it comes to know of them
(found by the attack review of issue 12-14's operations; each test failed before its fix)."""

from __future__ import annotations

from api.notifications.tables import Notification
from tests.api.conftest import expo_token
from tests.api.test_app_devices import DEVICES
from tests.people.support import IDENTIFY, REGISTER, identify, person
from tests.support import factories as f

SEND = "mutation($i: SendNotificationInput!) { sendNotification(input: $i) { id } }"


async def test_an_fcm_token_of_another_app_is_never_this_apps_to_link_or_send_to(api):
    a = await f.make_app(api)
    b = await f.make_app(api)
    token = f.fcm_token()
    # A's server registers B's Firebase token (so A "supplied" it): the device is B's, sent with
    # B's credentials. Linking it to A's person, or sending A's content to it, would put A's
    # words under B's name.
    data = await api.ok(REGISTER, {"i": {"platform": "FCM", "token": token, "appId": b.id}},
                        api_key=a.api_key, device_key=None)
    device = data["registerDevice"]["device"]
    assert await api.code(IDENTIFY, {"d": device["id"], "p": "victim"}, api_key=a.api_key) == "NOT_FOUND"
    assert await api.code(SEND, {"i": {"deviceIds": [device["id"]], "title": "x"}}, api_key=a.api_key) == "NOT_FOUND"
    # Nor through registration with A's person.
    other = {"platform": "FCM", "token": f.fcm_token(), "appId": b.id, "identifier": "victim"}
    assert await api.code(REGISTER, {"i": other}, api_key=a.api_key, device_key=None) == "FORBIDDEN"
    assert await person(api, a, "victim") is None
    # B itself may.
    assert (await identify(api, b, device, "customer-1"))["identifier"] == "customer-1"


async def test_an_unregistered_device_cannot_be_linked_again_by_the_app_that_supplied_it(api):
    app = await f.make_app(api)
    data = await api.ok(REGISTER, {"i": {"platform": "EXPO", "token": expo_token(), "identifier": "u"}},
                        api_key=app.api_key)
    device, key = data["registerDevice"]["device"], data["registerDevice"]["deviceKey"]
    token = device["token"]
    assert token  # the app that registered it sees its token
    await api.ok("mutation($t: String!) { unregisterDevice(deviceToken: $t) }", {"t": token}, device_key=key)
    assert (await person(api, app, "u"))["devices"] == []
    # Its own erasure holds: the app that once supplied the token cannot tie it to a person again.
    assert await api.code(IDENTIFY, {"d": device["id"], "p": "u"}, api_key=app.api_key) == "NOT_FOUND"


async def test_device_search_matches_no_more_of_a_token_than_its_hint(api):
    app = await f.make_app(api)
    channel = await f.make_channel(api, app, name="news")
    device = await f.make_expo_device(api)
    await f.subscribe(api, device, channel)
    core = device["token"].rstrip("]")

    async def found(term: str) -> list[str]:
        data = await api.ok(DEVICES, {"a": app.id, "first": 20, "s": term}, api_key=app.api_key)
        return [n["device"]["id"] for n in data["devices"]["nodes"]]

    assert await found(core[-6:]) == [device["id"]]  # the hint the dashboard shows
    assert await found(core[-4:]) == [device["id"]]
    # One character more than the hint would confirm a guess about a character the app cannot see.
    assert await found(core[-7:]) == []
    assert await found(core) == []


async def test_a_critical_channel_makes_the_apps_sends_critical_never_an_anonymous_one(api):
    app = await f.make_app(api)
    channel = await f.make_channel(api, app, name="alerts")
    await api.ok("mutation($c: ID!) { updateChannel(id: $c, critical: true) { critical } }",
                 {"c": channel["id"]}, api_key=app.api_key)
    mine = await f.send(api, app, channelId=channel["id"], title="from the app")
    anonymous = await f.send(api, None, channelId=channel["id"], title="from anyone")
    rows = {r["id"]: bool(r["critical"]) for r in await Notification.select(Notification.id, Notification.critical)}
    assert rows[int(mine["id"])] is True
    assert rows[int(anonymous["id"])] is False
    # Breaking through Focus or silence is the app's alone too.
    for level in ("CRITICAL", "TIME_SENSITIVE"):
        fields = {"channelId": channel["id"], "title": "x", "expo": {"interruptionLevel": level}}
        assert await api.code(SEND, {"i": fields}) == "FORBIDDEN"
    await f.send(api, app, channelId=channel["id"], title="x", expo={"interruptionLevel": "TIME_SENSITIVE"})


async def test_a_persons_devices_are_a_bounded_page_the_cost_counts(api):
    """Person.devices was every device ever linked, costed as 50: an app that links thousands of
    devices to its persons made `people { nodes { devices } }` read them all. It is the latest
    `first` links (default 50, at most 100), oldest first, and the cost counts `first`."""
    app = await f.make_app(api)
    linked = [(await api.ok(REGISTER, {"i": {"platform": "EXPO", "token": expo_token(), "identifier": "many"}},
                            api_key=app.api_key, device_key=None))["registerDevice"]["device"]["id"] for _ in range(5)]
    query = ("query($a: ID!, $n: Int!) { person(appId: $a, identifier: \"many\") { devices(first: $n) { id } }"
             " people(appId: $a) { nodes { devices(first: $n) { id } } } }")
    data = await api.ok(query, {"a": app.id, "n": 3}, api_key=app.api_key)
    assert [d["id"] for d in data["person"]["devices"]] == linked[2:]
    assert [d["id"] for d in data["people"]["nodes"][0]["devices"]] == linked[2:]
    default = await api.ok("query($a: ID!) { person(appId: $a, identifier: \"many\") { devices { id } } }",
                           {"a": app.id}, api_key=app.api_key)
    assert [d["id"] for d in default["person"]["devices"]] == linked
    for n in (0, 101):
        error = await api.error(query, {"a": app.id, "n": n}, api_key=app.api_key)
        assert error["extensions"]["code"] == "BAD_USER_INPUT" and "first" in error["message"], error


async def test_a_persons_online_looks_at_a_bounded_number_of_their_devices(api, monkeypatch):
    """Person.online asked presence about every device ever linked (a Redis command each): it looks
    at the latest ONLINE_DEVICES links, as Person.devices shows at most."""
    import asyncio

    from api.people import presence
    from tests.support.graphql import socket

    app = await f.make_app(api)
    registered = [(await api.ok(REGISTER, {"i": {"platform": "EXPO", "token": expo_token(), "identifier": "many"}},
                                api_key=app.api_key, device_key=None))["registerDevice"] for _ in range(3)]
    oldest = registered[0]
    online = "query($a: ID!) { person(appId: $a, identifier: \"many\") { online } }"
    async with socket(api.url, {"deviceKey": oldest["deviceKey"]}) as sock:
        await sock.start("subscription($t: String!) { notifications(deviceToken: $t) { id } }",
                         {"t": oldest["device"]["token"]})
        for _ in range(50):
            if (await api.ok(online, {"a": app.id}, api_key=app.api_key))["person"]["online"]:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the oldest device's stream never counted")
        monkeypatch.setattr(presence, "ONLINE_DEVICES", 2)
        assert (await api.ok(online, {"a": app.id}, api_key=app.api_key))["person"]["online"] is False

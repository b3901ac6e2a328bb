"""A device's open live stream follows its person links as they change, over a real WebSocket:
linked afterwards (identifyDevice, an access code with an identifier, a signed identity), it gets
the person's direct notifications without reconnecting; unlinked, erased, deactivated or its app
deleted, it gets none of them from the next send on, and erasure's withdrawn private channels
stop at once (not at the stream's next periodic check)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt

from api.devices.tables import Device
from tests.people.support import REGISTER, identify, identity_secret, sign
from tests.support import factories as f
from tests.support.graphql import socket

LIVE = "subscription($t: String!) { notifications(deviceToken: $t) { title } }"
ERASE = "mutation($a: ID!, $p: String!) { erasePerson(appId: $a, identifier: $p) }"
REDEEM = "mutation($c: String!, $t: String!) { redeemAccessCode(code: $c, deviceToken: $t) { id } }"


class Stream:
    """A device's live stream, and sends that tell what it received: each check sends a marker to
    a channel the device follows, so whatever arrives before the marker came from the sends made
    since the previous check."""

    def __init__(self, api, app, channel, sock, op) -> None:
        self.api, self.app, self.channel, self.sock, self.op = api, app, channel, sock, op
        self.markers = 0

    async def received(self, timeout: float = 5) -> list[str]:
        self.markers += 1
        marker = f"marker-{self.markers}"
        await f.send(self.api, self.app, channelId=self.channel["id"], title=marker)
        titles = []
        while True:
            message = await self.sock.receive(self.op, timeout=timeout)
            assert message["type"] == "next", message
            title = message["payload"]["data"]["notifications"]["title"]
            if title == marker:
                return titles
            if not title.startswith("marker-"):  # an earlier marker that came late is no send's
                titles.append(title)

    async def ready(self) -> None:
        """Until a marker comes back: the server may take a moment to start the subscription after
        the socket's `subscribe` message, and a marker sent before that is never streamed."""
        for _ in range(10):
            try:
                assert await self.received(timeout=1) == []
                return
            except TimeoutError:
                continue
        raise AssertionError("the stream never went live")


@contextlib.asynccontextmanager
async def live(api, app, device, channel):
    """The device follows `channel` (of `app`) and holds a live stream on its own socket."""
    await f.subscribe(api, device, channel)
    async with socket(api.url, {"deviceKey": device["key"]}) as sock:
        stream = Stream(api, app, channel, sock, await sock.start(LIVE, {"t": device["token"]}))
        await stream.ready()
        yield stream


async def news_app(api):
    """An app with a public channel, and a device that does not follow it yet."""
    app = await f.make_app(api)
    return app, await f.make_channel(api, app, name="news"), await f.make_expo_device(api)


async def to_persons(api, app, *identifiers: str, title: str) -> None:
    await f.send(api, app, identifiers=list(identifiers), title=title)


async def test_a_stream_gets_the_person_it_was_linked_to_afterwards_and_loses_one_unlinked(api):
    app, channel, device = await news_app(api)
    async with live(api, app, device, channel) as stream:
        await identify(api, app, device, "alice")
        await to_persons(api, app, "alice", title="to alice 1")
        assert await stream.received() == ["to alice 1"]

        await identify(api, app, device, None)
        await to_persons(api, app, "alice", title="to alice 2")
        assert await stream.received() == []

        await identify(api, app, device, "bob")  # moved to another person: only theirs now
        await to_persons(api, app, "alice", title="to alice 3")
        await to_persons(api, app, "bob", title="to bob 1")
        assert await stream.received() == ["to bob 1"]

        # Erased: the person's sends reach none of the devices it had.
        assert (await api.ok(ERASE, {"a": app.id, "p": "bob"}, api_key=app.api_key))["erasePerson"] is True
        await to_persons(api, app, "bob", title="to bob 2")
        assert await stream.received() == []


async def test_a_stream_opened_while_linked_loses_the_person_when_unlinked(api):
    app, channel, device = await news_app(api)
    await f.subscribe(api, device, channel)
    await identify(api, app, device, "ivan")
    async with live(api, app, device, channel) as stream:
        await to_persons(api, app, "ivan", title="to ivan 1")
        assert await stream.received() == ["to ivan 1"]
        await identify(api, app, device, None)
        await to_persons(api, app, "ivan", title="to ivan 2")
        assert await stream.received() == []


async def test_a_stream_gets_persons_linked_by_access_code_and_by_signed_identity(api):
    app = await f.make_app(api)
    channel = await f.make_channel(api, app, name="news")
    await f.make_channel(api, app, name="vip", visibility="PRIVATE")
    device = await f.make_expo_device(api)
    async with live(api, app, device, channel) as stream:
        code = await f.access_code(api, app, ["vip"], identifier="carol")
        await api.ok(REDEEM, {"c": code["code"], "t": device["token"]})
        await to_persons(api, app, "carol", title="to carol")
        assert await stream.received() == ["to carol"]

        # The device refreshes its own registration with an identity the app's server signed.
        secret = await identity_secret(api, app)
        signed = {"appId": app.id, "identifier": "dave", "signature": sign(secret, "dave")}
        await api.ok(REGISTER, {"i": {"platform": "EXPO", "token": device["token"], "identity": signed}})
        await to_persons(api, app, "carol", "dave", title="to carol or dave")
        await to_persons(api, app, "carol", title="to carol again")
        assert await stream.received() == ["to carol or dave"]


async def test_erasing_a_person_ends_the_private_channels_it_opened_on_open_streams_at_once(api):
    app = await f.make_app(api)
    channel = await f.make_channel(api, app, name="news")
    private = await f.make_channel(api, app, name="vip", visibility="PRIVATE")
    device = await f.make_expo_device(api)
    code = await f.access_code(api, app, ["vip"], identifier="erin")
    await api.ok(REDEEM, {"c": code["code"], "t": device["token"]})
    async with live(api, app, device, channel) as stream:
        await f.send(api, app, channelId=private["id"], title="vip 1")
        assert await stream.received() == ["vip 1"]
        await api.ok(ERASE, {"a": app.id, "p": "erin"}, api_key=app.api_key)
        await f.send(api, app, channelId=private["id"], title="vip 2")
        assert await stream.received() == []


async def test_a_deactivated_device_gets_no_more_of_its_persons_sends(api):
    app, channel, device = await news_app(api)
    await f.subscribe(api, device, channel)
    await identify(api, app, device, "gina")  # linked before the stream opens
    async with live(api, app, device, channel) as stream:
        await to_persons(api, app, "gina", title="to gina 1")
        assert await stream.received() == ["to gina 1"]
        # As a provider's DeviceNotRegistered leaves it.
        await Device.update({Device.active: False, Device.inactive_reason: "DeviceNotRegistered"}).where(
            Device.id == int(device["id"])
        )
        await to_persons(api, app, "gina", title="to gina 2")
        assert await stream.received() == []


async def test_a_deleted_apps_scheduled_send_to_a_person_never_reaches_the_stream(api, api_server):
    other = await f.make_app(api)
    channel = await f.make_channel(api, other, name="news")  # the stream lives on through another app
    app = await f.make_app(api)
    device = await f.make_expo_device(api)
    await f.subscribe(api, device, await f.make_channel(api, app, name="mine"))
    await identify(api, app, device, "hal")

    async def scheduled(title: str, *, delete_app: bool = False) -> None:
        soon = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)).isoformat()
        await f.send(api, app, identifiers=["hal"], title=title, sendAt=soon)
        if delete_app:
            await api.ok("mutation($a: ID!) { deleteApp(id: $a) }", {"a": app.id}, token=app.owner.token)
        await asyncio.sleep(1.5)
        await api_server.settle()

    async with live(api, other, device, channel) as stream:
        await scheduled("to hal soon")
        assert await stream.received() == ["to hal soon"]
        await scheduled("to hal later", delete_app=True)
        assert await stream.received() == []


async def test_with_more_devices_online_than_the_lookup_takes_every_device_is_looked_up(api, monkeypatch):
    """A direct send's live event looks up only the devices online (api/live/presence.py); past
    ONLINE_LOOKUP of them it looks at all of its persons' devices instead, and still reaches the
    open stream."""
    from api.notifications import events

    monkeypatch.setattr(events, "ONLINE_LOOKUP", 0)
    app, channel, device = await news_app(api)
    async with live(api, app, device, channel) as stream:
        await identify(api, app, device, "olga")
        await to_persons(api, app, "olga", title="to olga")
        assert await stream.received() == ["to olga"]

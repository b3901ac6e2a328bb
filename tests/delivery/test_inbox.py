"""The device inbox: notifications of its channels, newest first, with `read`; markRead."""

from __future__ import annotations

from api.notifications.tables import ReadMark
from tests.delivery.helpers import send, setup_channel
from tests.support import factories as f

INBOX = (
    "query($t: String!, $c: ID, $first: Int, $after: String) {"
    " notifications(deviceToken: $t, channelId: $c, first: $first, after: $after) {"
    " nodes { id title read channel { name } } pageInfo { hasNextPage endCursor } } }"
)
MARK = "mutation($t: String!, $ids: [ID!]!) { markRead(deviceToken: $t, notificationIds: $ids) }"


async def inbox(api, token: str, **kw) -> dict:
    return (await api.ok(INBOX, {"t": token, **kw}))["notifications"]


async def test_inbox_lists_the_devices_channels_newest_first_and_marks_read(api, sandbox):
    app, news, (device,) = await setup_channel(api, name="news")
    sport = await f.make_channel(api, app, name="sport")
    await f.subscribe(api, device, sport)
    unrelated = await f.make_channel(api, app, name="unrelated")
    a = await send(api, app, channelId=news["id"], title="a")
    b = await send(api, app, channelId=sport["id"], title="b")
    hidden = await send(api, app, channelId=unrelated["id"], title="hidden")

    nodes = (await inbox(api, device["token"]))["nodes"]
    assert [(n["title"], n["read"], n["channel"]["name"]) for n in nodes] == [
        ("b", False, "sport"),
        ("a", False, "news"),
    ]

    assert (await api.ok(MARK, {"t": device["token"], "ids": [a["id"], hidden["id"]]}))[
        "markRead"
    ] == 1
    nodes = (await inbox(api, device["token"]))["nodes"]
    assert {n["id"]: n["read"] for n in nodes} == {a["id"]: True, b["id"]: False}
    # marking again is harmless and counts what is read
    assert (await api.ok(MARK, {"t": device["token"], "ids": [a["id"], b["id"]]}))["markRead"] == 2
    assert all(n["read"] for n in (await inbox(api, device["token"]))["nodes"])
    assert len(await ReadMark.select()) == 2


async def test_read_is_per_device(api, sandbox):
    app, channel, (one, two) = await setup_channel(api, expo=2)
    sent = await send(api, app, channelId=channel["id"], title="x")
    await api.ok(MARK, {"t": one["token"], "ids": [sent["id"]]})
    assert (await inbox(api, one["token"]))["nodes"][0]["read"] is True
    assert (await inbox(api, two["token"]))["nodes"][0]["read"] is False
    # the app sees the notification, but `read` is only for a device
    data = await api.ok(
        "query($n: ID!) { notification(id: $n) { read } }", {"n": sent["id"]}, api_key=app.api_key
    )
    assert data["notification"]["read"] is None


async def test_inbox_of_one_channel_and_paging(api, sandbox):
    app, channel, (device,) = await setup_channel(api)
    other = await f.make_channel(api, app)
    await f.subscribe(api, device, other)
    ids = [(await send(api, app, channelId=channel["id"], title=f"n{i}"))["id"] for i in range(5)]
    await send(api, app, channelId=other["id"], title="other")
    page = await inbox(api, device["token"], c=channel["id"], first=3)
    assert [n["id"] for n in page["nodes"]] == ids[::-1][:3]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await inbox(
        api, device["token"], c=channel["id"], first=3, after=page["pageInfo"]["endCursor"]
    )
    assert [n["id"] for n in rest["nodes"]] == ids[::-1][3:]
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_an_inbox_needs_the_devices_key(api, sandbox):
    # An unknown token proves no device; a known one without its key (or with another's) neither.
    app, channel, (device,) = await setup_channel(api)
    other = await f.make_expo_device(api)
    await send(api, app, channelId=channel["id"], title="x")
    assert await api.code(INBOX, {"t": "ExponentPushToken[unknown]"}) == "UNAUTHENTICATED"
    assert await api.code(INBOX, {"t": device["token"]}, device_key=None) == "UNAUTHENTICATED"
    assert await api.code(INBOX, {"t": device["token"]}, device_key=other["key"]) == "UNAUTHENTICATED"
    assert [n["title"] for n in (await inbox(api, device["token"]))["nodes"]] == ["x"]


async def test_mark_read_with_an_unknown_device_or_bad_ids(api, sandbox):
    app, channel, (device,) = await setup_channel(api)
    sent = await send(api, app, channelId=channel["id"], title="x")
    error = await api.error(MARK, {"t": "ExponentPushToken[unknown]", "ids": [sent["id"]]})
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    error = await api.error(MARK, {"t": device["token"], "ids": [sent["id"]]}, device_key=None)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    error = await api.error(MARK, {"t": device["token"], "ids": ["not-an-id"]})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await api.ok(MARK, {"t": device["token"], "ids": ["999999"]}))["markRead"] == 0
    assert await ReadMark.select() == []


async def test_canceled_notifications_leave_the_inbox(api, sandbox):
    import datetime as dt

    app, channel, (device,) = await setup_channel(api)
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    sent = await send(api, app, channelId=channel["id"], title="x", sendAt=later)
    await api.ok(
        "mutation($n: ID!) { cancelNotification(id: $n) { id } }",
        {"n": sent["id"]},
        api_key=app.api_key,
    )
    assert (await inbox(api, device["token"]))["nodes"] == []
    assert (await api.ok(MARK, {"t": device["token"], "ids": [sent["id"]]}))["markRead"] == 0


async def test_a_private_channels_notifications_need_a_grant(api, sandbox):
    app, channel, _ = await setup_channel(api, expo=0, visibility="PRIVATE", name="vip")
    code = await f.access_code(api, app, ["vip"])
    device = await f.make_expo_device(api)
    stranger = await f.make_expo_device(api)
    await api.ok(
        "mutation($c: String!, $t: String!) { redeemAccessCode(code: $c, deviceToken: $t) { id } }",
        {"c": code["code"], "t": device["token"]},
    )
    sent = await send(api, app, channelId=channel["id"], title="members only")
    assert [n["id"] for n in (await inbox(api, device["token"]))["nodes"]] == [sent["id"]]
    assert (await inbox(api, stranger["token"]))["nodes"] == []
    assert (await api.ok(MARK, {"t": stranger["token"], "ids": [sent["id"]]}))["markRead"] == 0

"""channels, channel, createChannel, deleteChannel, subscribe, unsubscribe, subscribers,
deleteSubscription."""

from __future__ import annotations

import pytest

from api.channels.tables import Channel, ChannelSubscription
from api.devices.tables import Device, DeviceAccessGrant
from tests.api.conftest import expo_token, row_counts
from tests.support import factories as f

CREATE = (
    "mutation($a: ID!, $n: String!, $v: ChannelVisibility) {"
    " createChannel(appId: $a, name: $n, visibility: $v) {"
    " id name visibility subscriberCount app { id } } }"
)
CHANNEL = (
    "query($id: ID, $n: String, $a: ID, $t: String) {"
    " channel(id: $id, name: $n, appId: $a, deviceToken: $t) { id name visibility app { id } } }"
)
CHANNELS = "query($t: String, $a: ID) { channels(deviceToken: $t, appId: $a) { id name } }"
SUBSCRIBE = (
    "mutation($t: String!, $c: ID, $n: String, $a: ID) {"
    " subscribe(deviceToken: $t, channelId: $c, name: $n, appId: $a) {"
    " id channel { id name visibility subscriberCount app { id } } device { id token } } }"
)
UNSUBSCRIBE = (
    "mutation($t: String!, $c: ID, $n: String, $a: ID) {"
    " unsubscribe(deviceToken: $t, channelId: $c, name: $n, appId: $a) }"
)
SUBSCRIBERS = (
    "query($c: ID!, $first: Int, $after: String) {"
    " subscribers(channelId: $c, first: $first, after: $after) {"
    " nodes { id device { id token tokenHint identifier } channel { id } }"
    " pageInfo { endCursor hasNextPage } } }"
)
DELETE_SUB = "mutation($id: ID!) { deleteSubscription(id: $id) }"
REDEEM = (
    "mutation($c: String!, $t: String!) { redeemAccessCode(code: $c, deviceToken: $t) { id name } }"
)


async def test_create_channel_in_an_app(api):
    app = await f.make_app(api)
    data = (await api.ok(CREATE, {"a": app.id, "n": "alerts"}, api_key=app.api_key))[
        "createChannel"
    ]
    assert data == {
        "id": data["id"],
        "name": "alerts",
        "visibility": "PUBLIC",
        "subscriberCount": 0,
        "app": {"id": app.id},
    }
    private = await api.ok(CREATE, {"a": app.id, "n": "vip", "v": "PRIVATE"}, token=app.owner.token)
    assert private["createChannel"]["visibility"] == "PRIVATE"

    rows = await Channel.select().order_by(Channel.id)
    assert [(r["name"], r["app"], r["namespace"], r["visibility"]) for r in rows] == [
        ("alerts", int(app.id), int(app.id), "PUBLIC"),
        ("vip", int(app.id), int(app.id), "PRIVATE"),
    ]


async def test_a_duplicate_name_in_the_same_app_is_a_conflict_but_not_across_apps(api):
    app = await f.make_app(api)
    other = await f.make_app(api)
    await f.make_channel(api, app, name="alerts")
    error = await api.error(
        CREATE, {"a": app.id, "n": "alerts", "v": "PRIVATE"}, api_key=app.api_key
    )
    assert error["extensions"]["code"] == "CONFLICT"
    assert await Channel.count() == 1
    # Another app's namespace and the global one are separate.
    await f.make_channel(api, other, name="alerts")
    device = await f.make_expo_device(api)
    await api.ok(SUBSCRIBE, {"t": device["token"], "n": "alerts"})
    assert await Channel.count() == 3


@pytest.mark.parametrize(
    "name", ["", "has space", "x" * 65, "slash/name", "émoji", "semi;colon", "new\nline", "*"]
)
async def test_create_channel_refuses_invalid_names(api, name):
    app = await f.make_app(api)
    before = await row_counts()
    assert await api.code(CREATE, {"a": app.id, "n": name}, api_key=app.api_key) == "BAD_USER_INPUT"
    assert await row_counts() == before


@pytest.mark.parametrize("name", ["a", "x" * 64, "Team-1_build.log", "0.9"])
async def test_create_channel_accepts_valid_names(api, name):
    app = await f.make_app(api)
    data = await api.ok(CREATE, {"a": app.id, "n": name}, api_key=app.api_key)
    assert data["createChannel"]["name"] == name
    assert (await Channel.select(Channel.name).first())["name"] == name


async def test_channel_by_id_and_by_name_in_the_right_namespace(api):
    app = await f.make_app(api)
    other = await f.make_app(api)
    own = await f.make_channel(api, app, name="alerts")
    foreign = await f.make_channel(api, other, name="alerts")
    device = await f.make_expo_device(api)
    glob = (await api.ok(SUBSCRIBE, {"t": device["token"], "n": "alerts"}))["subscribe"]["channel"]
    assert glob["app"] is None
    assert glob["id"] not in (own["id"], foreign["id"])

    by_id = (await api.ok(CHANNEL, {"id": own["id"]}))["channel"]
    assert by_id == {
        "id": own["id"],
        "name": "alerts",
        "visibility": "PUBLIC",
        "app": {"id": app.id},
    }
    # A name with an API key: that key's app. With appId: that app. Anonymously: the global one.
    assert (await api.ok(CHANNEL, {"n": "alerts"}, api_key=app.api_key))["channel"]["id"] == own[
        "id"
    ]
    assert (await api.ok(CHANNEL, {"n": "alerts"}, api_key=other.api_key))["channel"][
        "id"
    ] == foreign["id"]
    assert (await api.ok(CHANNEL, {"n": "alerts", "a": other.id}))["channel"]["id"] == foreign["id"]
    assert (await api.ok(CHANNEL, {"n": "alerts"}))["channel"]["id"] == glob["id"]
    assert (await api.ok(CHANNEL, {"n": "alerts"}, token=app.owner.token))["channel"]["id"] == glob[
        "id"
    ]


async def test_channel_lookups_that_find_nothing_create_nothing(api):
    app = await f.make_app(api)
    assert await api.code(CHANNEL, {"n": "nothing-here"}) == "NOT_FOUND"
    assert await api.code(CHANNEL, {"n": "nothing-here"}, api_key=app.api_key) == "NOT_FOUND"
    assert await api.code(CHANNEL, {"id": "123456"}) == "NOT_FOUND"
    assert await api.code(CHANNEL, {}) == "BAD_USER_INPUT"
    assert await api.code(CHANNEL, {"id": "1", "n": "x"}) == "BAD_USER_INPUT"
    assert await api.code(CHANNEL, {"n": "bad name"}) == "BAD_USER_INPUT"
    assert await Channel.count() == 0


async def test_a_private_channel_is_visible_only_to_its_app_and_granted_devices(api):
    app = await f.make_app(api)
    other = await f.make_app(api)
    vip = await f.make_channel(api, app, name="vip", visibility="PRIVATE")
    granted = await f.make_expo_device(api)
    stranger = await f.make_expo_device(api)
    code = await f.access_code(api, app, ["vip"])
    await api.ok(REDEEM, {"c": code["code"], "t": granted["token"]})

    assert (await api.ok(CHANNEL, {"id": vip["id"]}, token=app.owner.token))["channel"][
        "id"
    ] == vip["id"]
    assert (await api.ok(CHANNEL, {"id": vip["id"], "t": granted["token"]}))["channel"][
        "id"
    ] == vip["id"]
    assert await api.code(CHANNEL, {"id": vip["id"]}) == "NOT_FOUND"
    assert await api.code(CHANNEL, {"id": vip["id"], "t": stranger["token"]}) == "NOT_FOUND"
    assert await api.code(CHANNEL, {"id": vip["id"]}, api_key=other.api_key) == "NOT_FOUND"
    assert (
        await api.code(CHANNEL, {"n": "vip", "a": app.id}, token=other.owner.token) == "NOT_FOUND"
    )


async def test_channels_for_apps_users_and_devices(api):
    app = await f.make_app(api)
    second = await f.make_app(api, owner=app.owner, name="second")
    other = await f.make_app(api)
    news = await f.make_channel(api, app, name="news")
    vip = await f.make_channel(api, app, name="vip", visibility="PRIVATE")
    extra = await f.make_channel(api, second, name="extra")
    await f.make_channel(api, other, name="elsewhere")
    device = await f.make_expo_device(api)
    await f.subscribe(api, device, news)
    await f.subscribe(api, device, extra)

    def names(data):
        return [c["name"] for c in data["channels"]]

    assert names(await api.ok(CHANNELS, api_key=app.api_key)) == ["news", "vip"]
    assert names(await api.ok(CHANNELS, {"a": app.id}, token=app.owner.token)) == ["news", "vip"]
    assert names(await api.ok(CHANNELS, token=app.owner.token)) == ["news", "vip", "extra"]
    assert names(await api.ok(CHANNELS, {"t": device["token"]})) == ["news", "extra"]
    assert names(await api.ok(CHANNELS, {"t": device["token"], "a": second.id})) == ["extra"]
    # An unknown token, or a device's token without its key, proves no device.
    assert await api.code(CHANNELS, {"t": expo_token()}) == "UNAUTHENTICATED"
    assert await api.code(CHANNELS, {"t": device["token"]}, device_key=None) == "UNAUTHENTICATED"
    assert await api.code(CHANNELS, {"a": app.id}, token=other.owner.token) == "NOT_FOUND"
    assert await api.code(CHANNELS) == "UNAUTHENTICATED"
    # A device sees what it follows, never the private channel it has no grant for.
    assert vip["id"] not in [
        c["id"] for c in (await api.ok(CHANNELS, {"t": device["token"]}))["channels"]
    ]


async def test_delete_channel_removes_it_with_its_subscriptions(api):
    app = await f.make_app(api)
    news = await f.make_channel(api, app, name="news")
    kept = await f.make_channel(api, app, name="kept")
    device = await f.make_expo_device(api)
    await f.subscribe(api, device, news)
    await f.subscribe(api, device, kept)
    query = "mutation($id: ID!) { deleteChannel(id: $id) }"
    assert await api.ok(query, {"id": news["id"]}, api_key=app.api_key) == {"deleteChannel": True}
    assert [r["name"] for r in await Channel.select(Channel.name)] == ["kept"]
    assert await ChannelSubscription.count() == 1
    assert await api.code(query, {"id": news["id"]}, api_key=app.api_key) == "NOT_FOUND"
    assert await api.ok(query, {"id": kept["id"]}, token=app.owner.token) == {"deleteChannel": True}
    assert await Channel.count() == 0 and await ChannelSubscription.count() == 0


async def test_subscribe_by_id_is_idempotent(api):
    app = await f.make_app(api)
    news = await f.make_channel(api, app, name="news")
    device = await f.make_expo_device(api)
    first = (await api.ok(SUBSCRIBE, {"t": device["token"], "c": news["id"]}))["subscribe"]
    second = (await api.ok(SUBSCRIBE, {"t": device["token"], "c": news["id"]}))["subscribe"]
    assert first == second
    assert first["channel"]["subscriberCount"] == 1
    assert first["device"] == {"id": device["id"], "token": device["token"]}
    rows = await ChannelSubscription.select()
    assert [(r["channel"], r["device"]) for r in rows] == [(int(news["id"]), int(device["id"]))]


async def test_subscribe_by_name_creates_a_global_public_channel_on_first_use(api):
    one = await f.make_expo_device(api)
    two = await f.make_expo_device(api)
    a = (await api.ok(SUBSCRIBE, {"t": one["token"], "n": "my-topic"}))["subscribe"]
    b = (await api.ok(SUBSCRIBE, {"t": two["token"], "n": "my-topic"}))["subscribe"]
    assert a["channel"]["id"] == b["channel"]["id"]
    assert b["channel"] == {
        "id": a["channel"]["id"],
        "name": "my-topic",
        "visibility": "PUBLIC",
        "subscriberCount": 2,
        "app": None,
    }
    rows = await Channel.select()
    assert [(r["name"], r["app"], r["namespace"]) for r in rows] == [("my-topic", None, 0)]
    assert await ChannelSubscription.count() == 2


async def test_subscribe_with_app_id_and_name_means_that_apps_channel(api):
    app = await f.make_app(api)
    news = await f.make_channel(api, app, name="news")
    device = await f.make_expo_device(api)
    sub = (await api.ok(SUBSCRIBE, {"t": device["token"], "n": "news", "a": app.id}))["subscribe"]
    assert sub["channel"]["id"] == news["id"]
    # An app's channel that does not exist is not created on first use.
    assert (
        await api.code(SUBSCRIBE, {"t": device["token"], "n": "nope", "a": app.id}) == "NOT_FOUND"
    )
    assert await Channel.count() == 1


async def test_a_private_channel_needs_a_grant(api):
    app = await f.make_app(api)
    vip = await f.make_channel(api, app, name="vip", visibility="PRIVATE")
    device = await f.make_expo_device(api)
    assert await api.code(SUBSCRIBE, {"t": device["token"], "c": vip["id"]}) == "FORBIDDEN"
    assert await api.code(SUBSCRIBE, {"t": device["token"], "n": "vip", "a": app.id}) == "FORBIDDEN"
    assert await ChannelSubscription.count() == 0

    code = await f.access_code(api, app, ["vip"])
    await api.ok(REDEEM, {"c": code["code"], "t": device["token"]})
    assert await api.ok(UNSUBSCRIBE, {"t": device["token"], "c": vip["id"]}) == {
        "unsubscribe": True
    }
    # The grant outlives the subscription: the device may come back.
    await api.ok(SUBSCRIBE, {"t": device["token"], "c": vip["id"]})
    assert await ChannelSubscription.count() == 1


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"t": "ExponentPushToken[never-registered]", "n": "news"}, "UNAUTHENTICATED"),
        ({"t": "DEVICE", "n": "news", "c": "CHANNEL"}, "BAD_USER_INPUT"),
        ({"t": "DEVICE"}, "BAD_USER_INPUT"),
        ({"t": "DEVICE", "n": "bad name"}, "BAD_USER_INPUT"),
        ({"t": "DEVICE", "n": "y" * 65}, "BAD_USER_INPUT"),
        ({"t": "DEVICE", "c": "not-an-id"}, "BAD_USER_INPUT"),
        ({"t": "DEVICE", "c": "99999"}, "NOT_FOUND"),
    ],
)
async def test_subscribe_refusals(api, variables, code):
    app = await f.make_app(api)
    channel = await f.make_channel(api, app, name="news")
    device = await f.make_expo_device(api)
    variables = {
        k: {"DEVICE": device["token"], "CHANNEL": channel["id"]}.get(v, v)
        for k, v in variables.items()
    }
    before = await row_counts()
    assert await api.code(SUBSCRIBE, variables) == code
    assert await row_counts() == before


async def test_an_inactive_device_cannot_subscribe(api):
    device = await f.make_expo_device(api)
    await Device.update({Device.active: False}).where(Device.id == int(device["id"]))
    assert await api.code(SUBSCRIBE, {"t": device["token"], "n": "news"}) == "BAD_USER_INPUT"
    assert await Channel.count() == 0


async def test_unsubscribe_is_idempotent(api):
    app = await f.make_app(api)
    news = await f.make_channel(api, app, name="news")
    kept = await f.make_channel(api, app, name="kept")
    device = await f.make_expo_device(api)
    await f.subscribe(api, device, news)
    await f.subscribe(api, device, kept)
    assert await api.ok(UNSUBSCRIBE, {"t": device["token"], "c": news["id"]}) == {
        "unsubscribe": True
    }
    assert await api.ok(UNSUBSCRIBE, {"t": device["token"], "c": news["id"]}) == {
        "unsubscribe": False
    }
    rows = await ChannelSubscription.select()
    assert [r["channel"] for r in rows] == [int(kept["id"])]
    assert await api.code(UNSUBSCRIBE, {"t": expo_token(), "c": kept["id"]}) == "UNAUTHENTICATED"


async def test_unsubscribe_by_name_does_not_create_a_channel(api):
    device = await f.make_expo_device(api)
    assert await api.code(UNSUBSCRIBE, {"t": device["token"], "n": "never-used"}) == "NOT_FOUND"
    assert await Channel.count() == 0
    await api.ok(SUBSCRIBE, {"t": device["token"], "n": "used"})
    assert await api.ok(UNSUBSCRIBE, {"t": device["token"], "n": "used"}) == {"unsubscribe": True}
    assert await ChannelSubscription.count() == 0


async def test_subscribers_pages_newest_first_with_cursors(api):
    app = await f.make_app(api)
    channel = await f.make_channel(api, app, name="news")
    devices = [await f.make_expo_device(api) for _ in range(5)]
    for device in devices:
        await f.subscribe(api, device, channel)

    seen, after, pages = [], None, 0
    while True:
        data = (
            await api.ok(
                SUBSCRIBERS, {"c": channel["id"], "first": 2, "after": after}, api_key=app.api_key
            )
        )["subscribers"]
        pages += 1
        seen += [n["device"]["id"] for n in data["nodes"]]
        # The devices registered themselves: their tokens are not the app's to read, only a hint.
        assert [n["device"]["token"] for n in data["nodes"]] == [None] * len(data["nodes"])
        assert all(len(n["device"]["tokenHint"]) == 6 for n in data["nodes"])
        assert all(n["channel"]["id"] == channel["id"] for n in data["nodes"])
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert pages == 3
    assert seen == [d["id"] for d in reversed(devices)]

    everything = await api.ok(
        SUBSCRIBERS, {"c": channel["id"], "first": 100}, token=app.owner.token
    )
    assert len(everything["subscribers"]["nodes"]) == 5
    assert everything["subscribers"]["pageInfo"]["hasNextPage"] is False

    empty_channel = await f.make_channel(api, app, name="empty")
    empty = (await api.ok(SUBSCRIBERS, {"c": empty_channel["id"]}, api_key=app.api_key))[
        "subscribers"
    ]
    assert empty == {"nodes": [], "pageInfo": {"endCursor": None, "hasNextPage": False}}


@pytest.mark.parametrize("after", ["garbage!", "", "djE6YWJj", "djI6MTI", "%%%", "MTIz"])
async def test_a_malformed_cursor_is_bad_user_input(api, after):
    app = await f.make_app(api)
    channel = await f.make_channel(api, app)
    error = await api.error(SUBSCRIBERS, {"c": channel["id"], "after": after}, api_key=app.api_key)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "cursor" in error["message"]


@pytest.mark.parametrize("first", [0, -1, 101, 10_000])
async def test_first_outside_1_to_100_is_bad_user_input(api, first):
    app = await f.make_app(api)
    channel = await f.make_channel(api, app)
    assert (
        await api.code(SUBSCRIBERS, {"c": channel["id"], "first": first}, api_key=app.api_key)
        == "BAD_USER_INPUT"
    )


async def test_delete_subscription_of_a_public_channel(api):
    app = await f.make_app(api)
    news = await f.make_channel(api, app, name="news")
    device = await f.make_expo_device(api)
    sub = await f.subscribe(api, device, news)
    assert await api.ok(DELETE_SUB, {"id": sub["id"]}, api_key=app.api_key) == {
        "deleteSubscription": True
    }
    assert await ChannelSubscription.count() == 0
    assert await api.code(DELETE_SUB, {"id": sub["id"]}, api_key=app.api_key) == "NOT_FOUND"
    # A public channel: the device may subscribe again.
    await f.subscribe(api, device, news)


async def test_delete_subscription_of_a_private_channel_withdraws_the_grant(api):
    app = await f.make_app(api)
    vip = await f.make_channel(api, app, name="vip", visibility="PRIVATE")
    gold = await f.make_channel(api, app, name="gold", visibility="PRIVATE")
    device = await f.make_expo_device(api)
    code = await f.access_code(api, app, ["vip", "gold"], identifier="member-7")
    await api.ok(REDEEM, {"c": code["code"], "t": device["token"]})
    assert await DeviceAccessGrant.count() == 2
    nodes = (await api.ok(SUBSCRIBERS, {"c": vip["id"]}, token=app.owner.token))["subscribers"][
        "nodes"
    ]
    assert nodes[0]["device"]["identifier"] == "member-7"

    assert await api.ok(DELETE_SUB, {"id": nodes[0]["id"]}, token=app.owner.token) == {
        "deleteSubscription": True
    }
    grants = await DeviceAccessGrant.select()
    assert [g["channel"] for g in grants] == [int(gold["id"])]
    assert [s["channel"] for s in await ChannelSubscription.select()] == [int(gold["id"])]
    assert await api.code(SUBSCRIBE, {"t": device["token"], "c": vip["id"]}) == "FORBIDDEN"
    assert await api.code(CHANNEL, {"id": vip["id"], "t": device["token"]}) == "NOT_FOUND"
    assert (await api.ok(CHANNEL, {"id": gold["id"], "t": device["token"]}))["channel"][
        "id"
    ] == gold["id"]


async def test_subscription_and_channel_ids_cannot_be_probed(api):
    """Whether an id exists must not show: the same answer for real and made-up ids."""
    app = await f.make_app(api)
    stranger = await f.make_app(api)
    news = await f.make_channel(api, app, name="news")
    vip = await f.make_channel(api, app, name="vip", visibility="PRIVATE")
    sub = await f.subscribe(api, await f.make_expo_device(api), news)
    missing = "2147483000"
    delete_sub = "mutation($id: ID!) { deleteSubscription(id: $id) }"
    delete_channel = "mutation($id: ID!) { deleteChannel(id: $id) }"
    for creds, expected in (
        ({}, "UNAUTHENTICATED"),
        ({"token": stranger.owner.token}, "NOT_FOUND"),
        ({"api_key": stranger.api_key}, "NOT_FOUND"),
    ):
        assert await api.code(delete_sub, {"id": sub["id"]}, **creds) == expected
        assert await api.code(delete_sub, {"id": missing}, **creds) == expected
        assert await api.code(delete_channel, {"id": vip["id"]}, **creds) == expected
        assert await api.code(delete_channel, {"id": missing}, **creds) == expected
        assert await api.code(SUBSCRIBERS, {"c": vip["id"]}, **creds) == expected
        assert await api.code(SUBSCRIBERS, {"c": missing}, **creds) == expected
    assert await ChannelSubscription.count() == 1
    assert await Channel.count() == 2


@pytest.mark.parametrize("plan", ["FREE", "BUSINESS"])  # the quota transaction, and the one-statement insert
async def test_a_send_to_a_channel_deleted_by_another_process_is_not_found_and_writes_nothing(api, plan):
    """Key sends look channels up through a two-second cache; a deletion elsewhere (here: straight
    in the database, so this process's cache does not hear of it) must not become an error 500."""
    from api.channels.tables import Channel
    from api.notifications.tables import Notification

    app = await f.make_app(api, plan=plan)
    await f.make_channel(api, app, name="short-lived")
    await f.send(api, app, channel="short-lived", title="first")  # now cached
    await Channel.delete().where(Channel.name == "short-lived")
    error = await api.error(
        "mutation { sendNotification(input: {channel: \"short-lived\", title: \"late\"}) { id } }",
        api_key=app.api_key,
    )
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert await Notification.count() == 0  # the first went with its channel (cascade), the second never was

"""sendNotification: validation before any write, channel by id or name, who may send,
idempotency."""

from __future__ import annotations

import pytest

from api.notifications.tables import DailyUsage, Delivery, Notification
from tests.delivery.helpers import (
    send,
    send_error,
    setup_channel,
    wait_deliveries,
    wait_status,
)
from tests.support import factories as f


async def _nothing_written(sandbox) -> None:
    assert await Notification.count() == 0
    assert await Delivery.count() == 0
    assert await DailyUsage.select() == []
    assert sandbox.messages() == []


@pytest.mark.parametrize(
    "fields, fragment",
    [
        ({}, "title, a body or data"),
        ({"data": [1, 2, 3]}, "data must be a JSON object"),
        ({"data": "text"}, "data must be a JSON object"),
        ({"data": 5}, "data must be a JSON object"),
        ({"title": "t", "ttl": -1}, "ttl"),
        ({"title": "t", "collapseKey": "k" * 65}, "collapseKey"),
        ({"title": "t", "collapseKey": ""}, "collapseKey"),
        ({"title": "t", "idempotencyKey": "has space"}, "idempotencyKey"),
    ],
)
async def test_invalid_input_is_refused_and_nothing_is_written(api, sandbox, fields, fragment):
    app, channel, _ = await setup_channel(api)
    error = await send_error(api, app, channelId=channel["id"], **fields)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert fragment in error["message"]
    await _nothing_written(sandbox)


async def test_limits_that_are_just_inside_are_accepted(api, sandbox):
    app, channel, _ = await setup_channel(api)
    sent = await send(api, app, channelId=channel["id"], data={"k": 1}, ttl=0, collapseKey="k" * 64)
    assert sent["status"] == "QUEUED"
    assert sent["data"] == {"k": 1}
    assert sent["ttl"] == 0
    assert sent["collapseKey"] == "k" * 64


async def test_payload_too_large_for_expo_is_refused_before_writing(api, sandbox):
    app, channel, _ = await setup_channel(api)
    error = await send_error(api, app, channelId=channel["id"], title="big", body="x" * 4100)
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "Expo" in error["message"]
    await _nothing_written(sandbox)


async def test_payload_too_large_for_web_push_only_is_refused(api, sandbox):
    # With a 64-character channel name, a 3,854-byte body fits Expo's 4,096 bytes but the
    # Web Push plaintext (which names the channel) is one byte over 3,993.
    app, channel, _ = await setup_channel(api, name="c" * 64)
    error = await send_error(api, app, channelId=channel["id"], body="x" * 3854)
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "Web Push" in error["message"]
    await _nothing_written(sandbox)


async def test_largest_accepted_payload_reaches_both_providers(api, sandbox):
    app, channel, (expo,) = await setup_channel(api, name="c" * 64)
    web = await f.make_web_device(api, sandbox)
    await f.subscribe(api, web, channel)
    sent = await send(
        api, app, channelId=channel["id"], body="é" * 1900
    )  # multi-byte: sizes are bytes
    assert sent["status"] == "QUEUED"
    rows = await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=2)
    assert {r["error"] for r in rows} == {None}
    assert sandbox.messages(to=expo["token"])[0]["message"]["body"] == "é" * 1900
    payload_error = await send_error(api, app, channelId=channel["id"], body="é" * 2100)
    assert payload_error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_send_by_channel_id_and_by_name_with_an_api_key(api, sandbox):
    app, channel, (device,) = await setup_channel(api, name="alerts")
    by_id = await send(api, app, channelId=channel["id"], title="by id")
    by_name = await send(api, app, channel="alerts", title="by name")
    assert by_id["channel"] == by_name["channel"] == {"id": channel["id"], "name": "alerts"}
    await wait_deliveries(by_name["id"], "SENT", "DELIVERED", count=1)
    await wait_deliveries(by_id["id"], "SENT", "DELIVERED", count=1)
    titles = sorted(m["message"]["title"] for m in sandbox.messages(to=device["token"]))
    assert titles == ["by id", "by name"]


async def test_owner_sends_by_id_and_by_name_with_app_id(api, sandbox):
    app, channel, (device,) = await setup_channel(api, name="news", visibility="PRIVATE")
    await send(api, None, token=app.owner.token, channelId=channel["id"], title="one")
    await send(api, None, token=app.owner.token, channel="news", appId=app.id, title="two")
    rows = await Notification.select(Notification.channel, Notification.app).order_by(
        Notification.id
    )
    assert rows == [{"channel": int(channel["id"]), "app": int(app.id)}] * 2


async def test_a_channel_id_with_another_apps_id_is_not_found(api, sandbox):
    """An owner of two apps sending to app B's channel id with app A's appId (the dashboard's Send
    page could, from a stale list): the two must agree, or the send went to B's subscribers."""
    app, channel, (device,) = await setup_channel(api, name="news")
    other = await f.make_app(api, owner=app.owner, name="Other")
    error = await send_error(api, None, token=app.owner.token, channelId=channel["id"], appId=other.id, title="x")
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert await Notification.count() == 0
    await send(api, None, token=app.owner.token, channelId=channel["id"], appId=app.id, title="ok")
    assert await Notification.count() == 1


async def test_channel_needs_exactly_one_of_id_and_name(api, sandbox):
    app, channel, _ = await setup_channel(api, name="alerts")
    assert (await send_error(api, app, title="x"))["extensions"]["code"] == "BAD_USER_INPUT"
    error = await send_error(api, app, channelId=channel["id"], channel="alerts", title="x")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await send_error(api, app, channel="missing", title="x"))["extensions"][
        "code"
    ] == "NOT_FOUND"
    assert (await send_error(api, app, channelId="999999", title="x"))["extensions"][
        "code"
    ] == "NOT_FOUND"
    assert await Notification.count() == 0


async def test_anonymous_may_send_to_a_public_channel(api, sandbox):
    app, channel, (device,) = await setup_channel(api)
    sent = await send(api, None, channelId=channel["id"], title="hi from nobody")
    assert sent["status"] == "QUEUED"
    await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=1)
    assert [m["message"]["title"] for m in sandbox.messages(to=device["token"])] == [
        "hi from nobody"
    ]
    row = await Notification.select().first()
    assert row["app"] == int(app.id)  # the app's ledger shows it ...
    assert await DailyUsage.select() == []  # ... but it takes none of the app's quota


async def test_anonymous_by_name_uses_the_global_public_namespace(api, sandbox):
    device = await f.make_expo_device(api)
    await api.ok(
        'mutation($t: String!) { subscribe(deviceToken: $t, name: "weather") { id } }',
        {"t": device["token"]},
    )
    sent = await send(api, None, channel="weather", title="rain")
    await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=1)
    # a name never used before creates the public channel on first use
    other = await send(api, None, channel="brand-new", title="first")
    assert other["channel"]["name"] == "brand-new"
    assert (await wait_status(other["id"], "COMPLETED"))["app"] is None


async def test_private_channel_refuses_anonymous_and_strangers(api, sandbox):
    app, channel, _ = await setup_channel(api, visibility="PRIVATE", name="secret")
    assert (await send_error(api, None, channelId=channel["id"], title="x"))["extensions"][
        "code"
    ] == "UNAUTHENTICATED"
    assert (await send_error(api, None, channel="secret", appId=app.id, title="x"))["extensions"][
        "code"
    ] == ("UNAUTHENTICATED")
    stranger = await f.make_app(api)
    assert (await send_error(api, stranger, channelId=channel["id"], title="x"))["extensions"][
        "code"
    ] == "NOT_FOUND"
    assert (await send_error(api, stranger, channel="secret", title="x"))["extensions"][
        "code"
    ] == "NOT_FOUND"
    other_user = await f.make_user(api)
    error = await send_error(api, None, token=other_user.token, channelId=channel["id"], title="x")
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert await Notification.count() == 0
    assert sandbox.messages() == []


async def test_another_apps_key_sends_to_a_public_channel_as_anyone(api, sandbox):
    app, channel, _ = await setup_channel(api)
    stranger = await f.make_app(api)
    await send(api, stranger, channelId=channel["id"], title="x")
    assert await DailyUsage.select() == []  # not charged to either app
    error = await api.error(
        "query($n: ID!) { deliveries(notificationId: $n) { nodes { id } } }",
        {"n": str((await Notification.select(Notification.id).first())["id"])},
        api_key=stranger.api_key,
    )
    assert error["extensions"]["code"] == "NOT_FOUND"


async def test_idempotency_key_returns_the_first_notification_and_sends_once(api, sandbox):
    app, channel, (device,) = await setup_channel(api)
    first = await send(api, app, channelId=channel["id"], title="once", idempotencyKey="order-42")
    await wait_status(first["id"], "SENT", "COMPLETED")
    again = await send(api, app, channelId=channel["id"], title="once", idempotencyKey="order-42")
    different_body = await send(
        api, app, channelId=channel["id"], title="changed", idempotencyKey="order-42"
    )
    assert again["id"] == different_body["id"] == first["id"]
    assert different_body["title"] == "once"
    await wait_status(first["id"], "COMPLETED")
    assert await Notification.count() == 1
    assert len(await Delivery.select()) == 1
    assert len(sandbox.messages(to=device["token"])) == 1
    assert (await DailyUsage.select(DailyUsage.count).first())[
        "count"
    ] == 1  # repeats take no quota

    # the same key from another app is another notification
    other_app, other_channel, (other_device,) = await setup_channel(api)
    theirs = await send(
        api, other_app, channelId=other_channel["id"], title="theirs", idempotencyKey="order-42"
    )
    assert theirs["id"] != first["id"]
    await wait_deliveries(theirs["id"], "SENT", "DELIVERED", count=1)
    assert len(sandbox.messages(to=other_device["token"])) == 1


async def test_idempotency_key_on_a_scheduled_notification_is_not_dispatched_twice(api, sandbox):
    import datetime as dt

    app, channel, (device,) = await setup_channel(api)
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    first = await send(
        api, app, channelId=channel["id"], title="later", sendAt=later, idempotencyKey="k1"
    )
    again = await send(
        api, app, channelId=channel["id"], title="later", sendAt=later, idempotencyKey="k1"
    )
    assert first["id"] == again["id"]
    assert first["status"] == again["status"] == "SCHEDULED"
    assert await Notification.count() == 1


async def test_quota_is_enforced_and_refused_sends_write_nothing(api, sandbox, settings):
    settings.quota_free = 2
    app, channel, _ = await setup_channel(api)
    await send(api, app, channelId=channel["id"], title="1")
    await send(api, app, channelId=channel["id"], title="2")
    error = await send_error(api, app, channelId=channel["id"], title="3")
    assert error["extensions"]["code"] == "QUOTA_EXCEEDED"
    assert await Notification.count() == 2


async def test_concurrent_repeats_of_an_idempotency_key_make_one_notification(
    api, sandbox, api_server
):
    import asyncio

    from tests.delivery.helpers import SEND

    app, channel, (device,) = await setup_channel(api)
    fields = {"channelId": channel["id"], "title": "race", "idempotencyKey": "same"}
    bodies = await asyncio.gather(
        *(api.raw(SEND, {"i": fields}, api_key=app.api_key) for _ in range(6))
    )
    assert {b["data"]["sendNotification"]["id"] for b in bodies} == {
        bodies[0]["data"]["sendNotification"]["id"]
    }
    await wait_status(bodies[0]["data"]["sendNotification"]["id"], "COMPLETED")
    await api_server.settle()
    assert await Notification.count() == 1
    assert len(sandbox.messages(to=device["token"])) == 1
    assert (await DailyUsage.select(DailyUsage.count).first())["count"] == 1


async def test_send_at_without_a_timezone_is_refused(api, sandbox):
    app, channel, _ = await setup_channel(api)
    error = await send_error(
        api, app, channelId=channel["id"], title="x", sendAt="2030-01-01T00:00:00"
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    await _nothing_written(sandbox)

"""Rich payload fields of sendNotification: validated, counted in the 4 KB budget, stored, and
carried into what Expo and the browser receive (the sandbox shows it); critical is for apps."""

from __future__ import annotations

import json

import pytest

from api.notifications.tables import Delivery, Notification
from tests.delivery.helpers import send_error, setup_channel, wait_deliveries
from tests.delivery.test_webpush import sub_id
from tests.support import factories as f

SEND = (
    "mutation($i: SendNotificationInput!) { sendNotification(input: $i) { id critical url image badge"
    " expo { subtitle sound channelId categoryId interruptionLevel mutableContent }"
    " webPush { icon tag actions { action title } } } }"
)
RICH = {
    "url": "https://example.com/chat/1",
    "image": "https://cdn.example.com/cat.png",
    "badge": 3,
    "expo": {"subtitle": "from Ann", "sound": "ping.wav", "channelId": "messages", "categoryId": "reply",
             "interruptionLevel": "TIME_SENSITIVE", "mutableContent": True},
    "webPush": {"icon": "https://example.com/icon.png", "tag": "chat-1",
                "actions": [{"action": "reply", "title": "Reply"}, {"action": "mute", "title": "Mute"}]},
}


async def test_rich_fields_reach_expo_and_the_browser(api, sandbox):
    app, channel, (expo,) = await setup_channel(api)
    web = await f.make_web_device(api, sandbox)
    await f.subscribe(api, web, channel)
    data = await api.ok(SEND, {"i": {"channelId": channel["id"], "title": "Ann", "body": "hi", "data": {"k": 1},
                                     **RICH}}, api_key=app.api_key)
    sent = data["sendNotification"]
    assert sent["url"] == RICH["url"] and sent["image"] == RICH["image"] and sent["badge"] == 3
    assert sent["expo"] == RICH["expo"]
    assert sent["webPush"] == RICH["webPush"]
    await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=2)

    (message,) = sandbox.messages(to=expo["token"])
    pushed = message["message"] if "message" in message else message
    assert pushed["data"] == {"k": 1, "notificationId": sent["id"], "url": RICH["url"]}
    assert pushed["richContent"] == {"image": RICH["image"]}
    assert pushed["badge"] == 3
    assert {k: pushed[k] for k in RICH["expo"]} == {**RICH["expo"], "interruptionLevel": "time-sensitive"}

    (received,) = sandbox.messages(to=sub_id(web))
    assert json.loads(received["payload"]) == {
        "id": sent["id"], "channel": channel["name"], "title": "Ann", "body": "hi", "data": {"k": 1},
        "url": RICH["url"], "image": RICH["image"], "badge": 3, "icon": RICH["webPush"]["icon"],
        "tag": "chat-1", "actions": RICH["webPush"]["actions"],
    }
    # Stored on the notification: an app reading it back sees the same.
    again = await api.ok("query($n: ID!) { notification(id: $n) { url expo { sound } webPush { tag } } }",
                         {"n": sent["id"]}, api_key=app.api_key)
    assert again["notification"] == {"url": RICH["url"], "expo": {"sound": "ping.wav"}, "webPush": {"tag": "chat-1"}}


async def test_without_rich_fields_the_payloads_are_unchanged(api, sandbox):
    app, channel, (expo,) = await setup_channel(api)
    data = await api.ok(SEND, {"i": {"channelId": channel["id"], "title": "plain"}}, api_key=app.api_key)
    sent = data["sendNotification"]
    assert sent == {"id": sent["id"], "critical": False, "url": None, "image": None, "badge": None,
                    "expo": None, "webPush": None}
    await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=1)
    (message,) = sandbox.messages(to=expo["token"])
    pushed = message["message"] if "message" in message else message
    assert not {"richContent", "badge", "subtitle", "interruptionLevel"} & set(pushed)
    assert pushed["sound"] == "default"


@pytest.mark.parametrize(
    "fields, fragment",
    [
        ({"url": "http://example.com/"}, "url must be an https URL"),
        ({"url": "javascript:alert(1)"}, "url must be an https URL"),
        ({"url": "https://example.com/" + "a" * 2048}, "url must be an https URL"),
        ({"image": "https://exa mple.com/x.png"}, "image must be an https URL"),
        ({"badge": -1}, "badge"),
        ({"badge": 100000}, "badge"),
        ({"expo": {"subtitle": "s" * 257}}, "expo.subtitle"),
        ({"expo": {"sound": "../etc/passwd"}}, "expo.sound"),
        ({"expo": {"channelId": ""}}, "expo.channelId"),
        ({"expo": {"categoryId": "c" * 65}}, "expo.categoryId"),
        ({"webPush": {"icon": "ftp://example.com/i.png"}}, "webPush.icon"),
        ({"webPush": {"tag": "t" * 65}}, "webPush.tag"),
        ({"webPush": {"actions": [{"action": "a", "title": "A"}] * 3}}, "at most 2"),
        ({"webPush": {"actions": [{"action": "", "title": "A"}]}}, "webPush.actions.action"),
    ],
)
async def test_bad_rich_fields_are_refused_before_anything_is_written(api, sandbox, fields, fragment):
    app, channel, _ = await setup_channel(api)
    error = await send_error(api, app, channelId=channel["id"], title="t", **fields)
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert fragment in error["message"]
    assert await Notification.count() == 0
    assert await Delivery.count() == 0


async def test_an_unknown_interruption_level_is_refused_with_a_code(api, sandbox):
    app, channel, _ = await setup_channel(api)
    error = await send_error(api, app, channelId=channel["id"], title="t", expo={"interruptionLevel": "LOUD"})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert await Notification.count() == 0


async def test_rich_fields_count_in_the_payload_budget(api, sandbox):
    # A body that fits alone is refused once a long image URL and subtitle are added.
    app, channel, _ = await setup_channel(api)
    body = "x" * 3500
    ok = await api.ok(SEND, {"i": {"channelId": channel["id"], "body": body}}, api_key=app.api_key)
    assert ok["sendNotification"]["id"]
    error = await send_error(api, app, channelId=channel["id"], body=body,
                             image="https://example.com/" + "i" * 300, expo={"subtitle": "s" * 256})
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert await Notification.count() == 1


async def test_critical_is_for_the_app_only(api, sandbox):
    app, channel, _ = await setup_channel(api)
    data = await api.ok(SEND, {"i": {"channelId": channel["id"], "title": "alarm", "critical": True}},
                        api_key=app.api_key)
    assert data["sendNotification"]["critical"] is True
    row = await Notification.select(Notification.critical).where(
        Notification.id == int(data["sendNotification"]["id"])).first()
    assert bool(row["critical"]) is True
    # Anyone may notify a public channel, but not as critical.
    error = await api.error(SEND, {"i": {"channelId": channel["id"], "title": "fake alarm", "critical": True}})
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert await Notification.count() == 1
    plain = await api.ok(SEND, {"i": {"channelId": channel["id"], "title": "hello", "critical": False}})
    assert plain["sendNotification"]["critical"] is False

"""Declarative Web Push (Safari 18.4+): subscriptions on Apple's push service get the declarative
JSON, shown without a service worker; every other push service keeps the classic payload."""

from __future__ import annotations

import json

from api.delivery.native_payload import takes_declarative
from tests.delivery.helpers import send, wait_deliveries
from tests.delivery.test_webpush import sub_id
from tests.support import factories as f


def test_apples_push_service_takes_the_declarative_payload():
    hosts = "web.push.apple.com"
    assert takes_declarative("https://web.push.apple.com/QGuQyavXutnMH0ILh", hosts)
    assert not takes_declarative("https://fcm.googleapis.com/fcm/send/abc", hosts)
    assert not takes_declarative("https://updates.push.services.mozilla.com/wpush/v2/x", hosts)
    assert not takes_declarative("https://web.push.apple.com.evil.example/x", hosts)


async def test_an_apple_subscription_gets_declarative_json_and_others_the_classic_payload(api, sandbox, settings):
    app = await f.make_app(api)
    channel = await f.make_channel(api, app)
    apple = await f.make_web_device(api, sandbox)
    await f.subscribe(api, apple, channel)
    # The sandbox's push service stands in for web.push.apple.com: its host is the declarative one.
    settings.webpush_declarative_hosts = "127.0.0.1"
    sent = await send(api, app, channelId=channel["id"], title="Hello", body="Safari", data={"url": "https://example.com/a"},
                      collapseKey="news")
    await wait_deliveries(sent["id"], "DELIVERED", count=1)
    (message,) = sandbox.messages(to=sub_id(apple))
    assert json.loads(message["payload"]) == {
        "web_push": 8030,
        "notification": {"title": "Hello", "body": "Safari", "navigate": "https://example.com/a", "tag": "news",
                         "data": {"url": "https://example.com/a", "notificationId": sent["id"]}},
        "mutable": True,
    }
    settings.webpush_declarative_hosts = "web.push.apple.com"
    sent = await send(api, app, channelId=channel["id"], title="Classic")
    await wait_deliveries(sent["id"], "DELIVERED", count=1)
    classic = [json.loads(m["payload"]) for m in sandbox.messages(to=sub_id(apple))][-1]
    assert classic == {"id": sent["id"], "channel": channel["name"], "title": "Classic", "body": None, "data": None}

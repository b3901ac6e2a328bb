"""Retention by plan with a controllable clock: archive leaves the inbox, delete removes rows."""

from __future__ import annotations

import datetime as dt

import time_machine

from api.notifications.retention import apply_retention
from api.notifications.tables import Delivery, Notification
from tests.support import factories as f

INBOX = "query($t: String!) { notifications(deviceToken: $t) { nodes { id } } }"
OWNER = "query($a: ID!) { notifications(appId: $a) { nodes { id } } }"


async def _app_with_notification(api, sandbox, plan: str | None):
    app = await f.make_app(api, plan=plan)
    channel = await f.make_channel(api, app, name="news")
    device = await f.make_expo_device(api)
    await f.subscribe(api, device, channel)
    sent = await f.send(api, app, channel="news", title="old news")
    return app, device, sent


async def _ids(api, query, variables, **auth) -> list[str]:
    data = await api.ok(query, variables, **auth)
    return [n["id"] for n in data["notifications"]["nodes"]]


async def test_free_plan_archives_after_7_days_and_deletes_after_30(api, sandbox, settings, api_server):
    app, device, sent = await _app_with_notification(api, sandbox, None)
    await api_server.settle()
    assert await Delivery.count().where(Delivery.notification == int(sent["id"])) == 1
    now = dt.datetime.now(dt.UTC)

    with time_machine.travel(now + dt.timedelta(days=6), tick=False):
        result = await apply_retention(settings)
    assert result.archived == 0
    assert await _ids(api, INBOX, {"t": device["token"]}) == [sent["id"]]

    with time_machine.travel(now + dt.timedelta(days=8), tick=False):
        result = await apply_retention(settings)
    assert result.archived == 1
    assert await _ids(api, INBOX, {"t": device["token"]}) == []  # gone from the device's inbox
    assert await _ids(api, OWNER, {"a": app.id}, api_key=app.api_key) == [sent["id"]]  # the owner still sees it

    with time_machine.travel(now + dt.timedelta(days=31), tick=False):
        result = await apply_retention(settings)
    assert (result.deleted, result.deliveries_deleted) == (1, 1)
    assert await Notification.count() == 0
    assert await Delivery.count() == 0


async def test_pro_keeps_longer_and_business_keeps_forever(api, sandbox, settings, api_server):
    pro, _, pro_sent = await _app_with_notification(api, sandbox, "PRO")
    business, _, business_sent = await _app_with_notification(api, sandbox, "BUSINESS")
    await api_server.settle()
    now = dt.datetime.now(dt.UTC)
    with time_machine.travel(now + dt.timedelta(days=31), tick=False):
        result = await apply_retention(settings)
    assert result.archived == 1 and result.deleted == 0
    with time_machine.travel(now + dt.timedelta(days=101), tick=False):
        result = await apply_retention(settings)
    assert result.deleted == 1
    remaining = [r["id"] for r in await Notification.select(Notification.id)]
    assert remaining == [int(business_sent["id"])]
    with time_machine.travel(now + dt.timedelta(days=3650), tick=False):
        await apply_retention(settings)
    assert await Notification.count() == 1
    del pro, business, pro_sent

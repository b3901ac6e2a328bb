"""Scheduled notifications: SCHEDULED until due, then dispatched once; cancelNotification."""

from __future__ import annotations

import asyncio
import datetime as dt

from api.delivery import sweep
from api.notifications.tables import Delivery, Notification
from tests.delivery.helpers import (
    delivery_rows,
    eventually,
    send,
    setup_channel,
    wait_deliveries,
    wait_status,
)

CANCEL = "mutation($n: ID!) { cancelNotification(id: $n) { id status } }"


def _in(seconds: float, tz: dt.tzinfo = dt.UTC) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)).astimezone(tz).isoformat()


async def test_scheduled_notification_is_sent_when_due(api, sandbox):
    app, channel, (device,) = await setup_channel(api)
    due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=0.8)
    sent = await send(api, app, channelId=channel["id"], title="later", sendAt=due.isoformat())
    assert sent["status"] == "SCHEDULED"
    assert dt.datetime.fromisoformat(sent["sendAt"]) == due
    await asyncio.sleep(0.3)
    assert await delivery_rows(sent["id"]) == []
    assert sandbox.messages() == []
    await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=1, within=5)
    (message,) = sandbox.messages(to=device["token"])
    assert message["received_at"] >= due.timestamp()
    await wait_status(sent["id"], "COMPLETED")


async def test_send_at_with_another_utc_offset(api, sandbox):
    app, channel, (device,) = await setup_channel(api)
    tokyo = dt.timezone(dt.timedelta(hours=9))
    later = await send(api, app, channelId=channel["id"], title="tokyo", sendAt=_in(3600, tokyo))
    soon = await send(
        api,
        app,
        channelId=channel["id"],
        title="soon",
        sendAt=_in(0.4, dt.timezone(-dt.timedelta(hours=5))),
    )
    assert later["status"] == soon["status"] == "SCHEDULED"
    await wait_status(soon["id"], "COMPLETED", within=5)
    assert (
        await Notification.select(Notification.status)
        .where(Notification.id == int(later["id"]))
        .first()
    )["status"] == "SCHEDULED"
    assert [m["message"]["title"] for m in sandbox.messages(to=device["token"])] == ["soon"]


async def test_send_at_in_the_past_is_sent_now(api, sandbox):
    app, channel, _ = await setup_channel(api)
    sent = await send(api, app, channelId=channel["id"], title="now", sendAt=_in(-60))
    assert sent["status"] == "QUEUED"
    await wait_status(sent["id"], "COMPLETED")


async def test_scheduled_notifications_are_hidden_from_the_inbox_until_sent(api, sandbox):
    app, channel, (device,) = await setup_channel(api)
    await send(api, app, channelId=channel["id"], title="later", sendAt=_in(3600))
    data = await api.ok(
        "query($t: String!) { notifications(deviceToken: $t) { nodes { id } } }",
        {"t": device["token"]},
    )
    assert data["notifications"]["nodes"] == []


async def test_two_schedulers_never_double_send(api, sandbox, runtime):
    app, channel, devices = await setup_channel(api, expo=2)
    ids = [
        (await send(api, app, channelId=channel["id"], title=f"s{i}", sendAt=_in(0.3)))["id"]
        for i in range(5)
    ]
    await asyncio.sleep(0.35)
    results = await asyncio.gather(*(sweep.dispatch_due(runtime) for _ in range(4)))
    assert sum(results) <= 5
    for nid in ids:
        await wait_status(nid, "COMPLETED", within=5)
        assert len(await delivery_rows(nid)) == 2
    for d in devices:
        assert sorted(m["message"]["title"] for m in sandbox.messages(to=d["token"])) == [
            f"s{i}" for i in range(5)
        ]


async def test_cancel_a_scheduled_notification_and_it_is_never_sent(api, sandbox):
    app, channel, _ = await setup_channel(api, expo=2)
    sent = await send(api, app, channelId=channel["id"], title="never", sendAt=_in(0.5))
    canceled = (await api.ok(CANCEL, {"n": sent["id"]}, api_key=app.api_key))["cancelNotification"]
    assert canceled == {"id": sent["id"], "status": "CANCELED"}
    await asyncio.sleep(1.0)  # well past sendAt, several sweeps
    row = await Notification.select().where(Notification.id == int(sent["id"])).first()
    assert row["status"] == "CANCELED"
    assert await delivery_rows(sent["id"]) == []
    assert sandbox.messages() == []
    again = await api.error(CANCEL, {"n": sent["id"]}, api_key=app.api_key)
    assert again["extensions"]["code"] == "CONFLICT"


async def test_cancel_a_completed_notification_is_a_conflict(api, sandbox):
    app, channel, _ = await setup_channel(api)
    sent = await send(api, app, channelId=channel["id"], title="done")
    await wait_status(sent["id"], "COMPLETED")
    error = await api.error(CANCEL, {"n": sent["id"]}, api_key=app.api_key)
    assert error["extensions"]["code"] == "CONFLICT"
    assert (await wait_status(sent["id"], "COMPLETED"))["status"] == "COMPLETED"


async def test_cancel_stops_the_pending_deliveries_of_a_queued_notification(api, sandbox, settings):
    settings.retry_base_delay = 5  # the retry would come long after the cancel
    settings.retry_max_delay = 5
    app, channel, (device,) = await setup_channel(api)
    sandbox.faults({"provider": "expo", "fault": "http_500", "times": 1})
    sent = await send(api, app, channelId=channel["id"], title="stop")

    async def failed_once():
        rows = await delivery_rows(sent["id"])
        return rows and rows[0]["status"] == "PENDING" and rows[0]["attempts"] == 1

    await eventually(failed_once, what="a delivery waiting for its retry")
    canceled = (await api.ok(CANCEL, {"n": sent["id"]}, token=app.owner.token))[
        "cancelNotification"
    ]
    assert canceled["status"] == "CANCELED"
    (row,) = await delivery_rows(sent["id"])
    assert row["status"] == "FAILED"
    assert row["error"] == "Canceled"
    assert sandbox.messages() == []


async def test_only_the_app_may_cancel(api, sandbox):
    app, channel, _ = await setup_channel(api)
    sent = await send(api, app, channelId=channel["id"], title="mine", sendAt=_in(3600))
    assert (await api.error(CANCEL, {"n": sent["id"]}))["extensions"]["code"] == "UNAUTHENTICATED"
    stranger = await setup_channel(api)
    assert (await api.error(CANCEL, {"n": sent["id"]}, api_key=stranger[0].api_key))["extensions"][
        "code"
    ] == ("NOT_FOUND")
    assert await Delivery.count() == 0
    assert (await Notification.select(Notification.status).first())["status"] == "SCHEDULED"


async def test_a_delivery_canceled_while_in_flight_is_not_resurrected_by_its_retry(
    api, sandbox, runtime
):
    """The sender holds the lease when the cancel lands; its 'retry later' must not undo it."""
    import datetime as dt

    from api.delivery import ledger

    app, channel, _ = await setup_channel(api)
    sent = await send(api, app, channelId=channel["id"], title="x", sendAt=_in(3600))
    device = (await Delivery.raw("SELECT id FROM devices"))[0]["id"]
    now = dt.datetime.now(dt.UTC)
    # The delivery row first, then the fan-out marked done: the other order left a moment in which
    # the periodic sweep rightly saw a finished fan-out with no deliveries and completed it.
    await Delivery.insert(
        Delivery(
            notification=int(sent["id"]),
            device=device,
            platform="EXPO",
            status="PENDING",
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
    )
    await Notification.update(
        {Notification.status: "QUEUED", Notification.fanout_done: True}
    ).where(Notification.id == int(sent["id"]))
    (claimed,) = await ledger.claim([r["id"] for r in await delivery_rows(sent["id"])], now)
    await api.ok(CANCEL, {"n": sent["id"]}, api_key=app.api_key)
    await ledger.apply(runtime, [ledger.Change(claimed, "PENDING", error="http_500")], retry_at=now)
    (row,) = await delivery_rows(sent["id"])
    assert (row["status"], row["error"]) == ("FAILED", "Canceled")

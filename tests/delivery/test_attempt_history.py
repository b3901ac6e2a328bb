"""Delivery.history: every provider outcome the ledger recorded, oldest first, bounded per
delivery, deleted with its delivery."""

from __future__ import annotations

import datetime as dt

from api.delivery import attempts
from api.notifications.tables import Delivery, DeliveryAttempt, Notification
from tests.delivery.helpers import send, setup_channel, wait_deliveries, wait_status
from tests.delivery.test_retries import sub_id
from tests.support import factories as f

HISTORY = (
    "query($n: ID!) { deliveries(notificationId: $n) { nodes {"
    " id status device { id } history { kind status error ticketId at } } } }"
)


async def history_of(api, app, nid: str) -> dict[str, list[dict]]:
    data = await api.ok(HISTORY, {"n": nid}, api_key=app.api_key)
    return {d["device"]["id"]: d["history"] for d in data["deliveries"]["nodes"]}


async def test_a_web_push_retried_twice_then_delivered_shows_three_attempts(api, sandbox):
    app, channel, _ = await setup_channel(api, expo=0)
    device = await f.make_web_device(api, sandbox)
    other = await f.make_web_device(api, sandbox)
    for d in (device, other):
        await f.subscribe(api, d, channel)
    sandbox.faults({"provider": "webpush", "match": sub_id(device), "fault": "http_503", "times": 2,
                    "retry_after": 0})
    sent = await send(api, app, channelId=channel["id"], title="again")
    await wait_deliveries(sent["id"], "DELIVERED", count=2)

    history = await history_of(api, app, sent["id"])
    retried = history[device["id"]]
    assert [(a["kind"], a["status"], a["error"]) for a in retried] == [
        ("SEND", "PENDING", "http_503"), ("SEND", "PENDING", "http_503"), ("SEND", "DELIVERED", None),
    ]
    times = [dt.datetime.fromisoformat(a["at"]) for a in retried]
    assert times == sorted(times) and times[0] < times[-1]
    assert [(a["kind"], a["status"]) for a in history[other["id"]]] == [("SEND", "DELIVERED")]
    # An accepted send is read back from its delivery row, not stored: only the two failures are rows.
    rows = await DeliveryAttempt.select(DeliveryAttempt.delivery, DeliveryAttempt.status)
    assert sorted(r["status"] for r in rows) == ["PENDING", "PENDING"]
    assert history[other["id"]][0]["at"] is not None
    # `first` keeps the latest attempts (oldest first among them), bounding the query's cost.
    latest = await api.ok("query($n: ID!) { deliveries(notificationId: $n) { nodes { device { id }"
                          " history(first: 1) { status } } } }", {"n": sent["id"]}, api_key=app.api_key)
    by_device = {d["device"]["id"]: d["history"] for d in latest["deliveries"]["nodes"]}
    assert by_device[device["id"]] == [{"status": "DELIVERED"}]


async def test_an_expo_send_and_its_receipt_are_both_in_the_history(api, sandbox):
    app, channel, (device,) = await setup_channel(api, expo=1)
    sandbox.faults({"provider": "expo", "fault": "http_500", "times": 1, "retry_after": 0})
    sent = await send(api, app, channelId=channel["id"], title="receipt")
    (row,) = await wait_deliveries(sent["id"], "DELIVERED", count=1)
    await wait_status(sent["id"], "COMPLETED")

    (history,) = (await history_of(api, app, sent["id"])).values()
    assert [(a["kind"], a["status"], a["error"]) for a in history] == [
        ("SEND", "PENDING", "http_500"), ("SEND", "SENT", None), ("RECEIPT", "DELIVERED", None),
    ]
    assert history[1]["ticketId"] == row["ticket_id"] is not None
    assert dt.datetime.fromisoformat(history[1]["at"]) <= dt.datetime.fromisoformat(history[2]["at"])
    stored = await DeliveryAttempt.select(DeliveryAttempt.kind, DeliveryAttempt.status).order_by(DeliveryAttempt.id)
    assert [(a["kind"], a["status"]) for a in stored] == [("SEND", "PENDING"), ("RECEIPT", "DELIVERED")]


async def test_history_written_by_an_earlier_release_is_not_doubled(api, sandbox):
    """Rows of accepted sends stored before they were read back from the delivery stay the only
    entry for that send."""
    app, channel, _ = await setup_channel(api, expo=0)
    device = await f.make_web_device(api, sandbox)
    await f.subscribe(api, device, channel)
    sent = await send(api, app, channelId=channel["id"], title="old row")
    (row,) = await wait_deliveries(sent["id"], "DELIVERED", count=1)
    await DeliveryAttempt.insert(DeliveryAttempt(delivery=row["id"], kind="SEND", status="DELIVERED",
                                                 attempted_at=dt.datetime.now(dt.UTC)))
    (history,) = (await history_of(api, app, sent["id"])).values()
    assert [(a["kind"], a["status"]) for a in history] == [("SEND", "DELIVERED")]


async def test_history_is_bounded_and_goes_with_its_delivery(api, sandbox):
    app, channel, _ = await setup_channel(api, expo=2)
    sent = await send(api, app, channelId=channel["id"], title="bounded")
    first, second = await wait_deliveries(sent["id"], "DELIVERED", count=2)
    now = dt.datetime.now(dt.UTC)
    await DeliveryAttempt.insert(*[
        DeliveryAttempt(delivery=d["id"], kind="SEND", status="PENDING", error=f"e{i}", attempted_at=now)
        for d in (first, second) for i in range(25)
    ])
    assert attempts.may_overflow(attempts.ATTEMPTS_KEPT - 1) and not attempts.may_overflow(5)
    await attempts.prune([first["id"]])
    kept = await DeliveryAttempt.select().where(DeliveryAttempt.delivery == first["id"]).order_by(DeliveryAttempt.id)
    assert len(kept) == attempts.ATTEMPTS_KEPT
    assert [a["error"] for a in kept] == [f"e{i}" for i in range(5, 25)]  # the last ones
    assert await DeliveryAttempt.count().where(DeliveryAttempt.delivery == second["id"]) > attempts.ATTEMPTS_KEPT

    await Delivery.delete().where(Delivery.id == first["id"])
    assert await DeliveryAttempt.count().where(DeliveryAttempt.delivery == first["id"]) == 0
    # Through the cascade too (PostgreSQL follows deliveries with a statement trigger, not a key).
    await Notification.delete().where(Notification.id == int(sent["id"]))
    assert await Delivery.count().where(Delivery.id == second["id"]) == 0
    assert await DeliveryAttempt.count().where(DeliveryAttempt.delivery == second["id"]) == 0

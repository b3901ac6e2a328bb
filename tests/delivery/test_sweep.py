"""The sweep: a lost task delays a delivery but never loses it (DESIGN.md, principle 1)."""

from __future__ import annotations

import datetime as dt

from api import db
from api.delivery import sweep
from api.delivery.pipeline import FAN_OUT, send_task
from api.notifications.tables import Delivery, Notification
from tests.delivery.helpers import (
    delivery_rows,
    eventually_sync,
    send,
    setup_channel,
    wait_deliveries,
    wait_status,
)

SEND_EXPO, SEND_WEBPUSH = send_task("EXPO"), send_task("WEB")


class LostTasks:
    """Swallows kicks of the given task names, as a crashed worker or a flushed Redis would."""

    def __init__(self, monkeypatch, runtime, *names: str) -> None:
        self.names = set(names)
        self.lost: list[tuple] = []
        self._kick = runtime.queue.kick
        monkeypatch.setattr(runtime.queue, "kick", self.kick)

    async def kick(self, task_name, *args, **kwargs):
        if task_name in self.names:
            self.lost.append((task_name, args))
            return True
        return await self._kick(task_name, *args, **kwargs)

    def restore(self) -> None:
        self.names.clear()


async def test_a_lost_fan_out_is_re_kicked(api, sandbox, runtime, monkeypatch):
    lost = LostTasks(monkeypatch, runtime, FAN_OUT)
    app, channel, devices = await setup_channel(api, expo=2)
    sent = await send(api, app, channelId=channel["id"], title="lost fan-out")
    assert lost.lost == [(FAN_OUT, (int(sent["id"]),))]
    lost.restore()
    row = await wait_status(sent["id"], "QUEUED")
    assert row["fanout_done"] is False
    assert await delivery_rows(sent["id"]) == []
    # after BOOPER_STALL_AFTER (1 s) the sweep kicks it again
    await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=2, within=5)
    await wait_status(sent["id"], "COMPLETED")
    for d in devices:
        assert len(sandbox.messages(to=d["token"])) == 1


async def test_lost_send_tasks_are_re_kicked(api, sandbox, runtime, monkeypatch):
    lost = LostTasks(monkeypatch, runtime, SEND_EXPO, SEND_WEBPUSH)
    app, channel, devices = await setup_channel(api, expo=3)
    sent = await send(api, app, channelId=channel["id"], title="lost sends")
    await eventually_sync(lambda: lost.lost, what="the send task to be kicked (and lost)")
    rows = await wait_deliveries(sent["id"], "PENDING", count=3)
    assert all(r["attempts"] == 0 for r in rows)
    assert [name for name, _ in lost.lost] == [SEND_EXPO]
    lost.restore()
    rows = await wait_deliveries(sent["id"], "DELIVERED", count=3, within=5)
    assert all(r["attempts"] == 1 for r in rows)
    for d in devices:
        assert len(sandbox.messages(to=d["token"])) == 1


async def test_an_orphaned_pending_delivery_is_delivered(api, sandbox):
    """A PENDING row no task knows about (written by a process that died before kicking)."""
    app, channel, (device,) = await setup_channel(api, expo=1)
    old = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30)
    async with db.transaction():
        nid = (
            await Notification.insert(
                Notification(
                    app=int(app.id),
                    channel=int(channel["id"]),
                    title="orphan",
                    status="QUEUED",
                    created_at=old,
                    fanout_done=True,
                    fanout_cursor=int(device["id"]),
                    kicked_at=old,
                )
            ).returning(Notification.id)
        )[0]["id"]
        await Delivery.insert(
            Delivery(
                notification=nid,
                device=int(device["id"]),
                platform="EXPO",
                status="PENDING",
                next_attempt_at=old,
                created_at=old,
                updated_at=old,
            )
        )
    (row,) = await wait_deliveries(nid, "DELIVERED", count=1, within=5)
    assert row["attempts"] == 1
    assert [m["message"]["title"] for m in sandbox.messages(to=device["token"])] == ["orphan"]
    await wait_status(nid, "COMPLETED")


async def test_a_leased_delivery_is_left_to_its_sender(api, sandbox, runtime):
    app, channel, (device,) = await setup_channel(api, expo=1)
    now = dt.datetime.now(dt.UTC)
    old = now - dt.timedelta(seconds=30)
    async with db.transaction():
        nid = (
            await Notification.insert(
                Notification(
                    app=int(app.id),
                    channel=int(channel["id"]),
                    title="held",
                    status="QUEUED",
                    created_at=old,
                    fanout_done=True,
                    kicked_at=old,
                )
            ).returning(Notification.id)
        )[0]["id"]
        await Delivery.insert(
            Delivery(
                notification=nid,
                device=int(device["id"]),
                platform="EXPO",
                status="PENDING",
                next_attempt_at=old,
                lease_until=now + dt.timedelta(minutes=2),
                created_at=old,
                updated_at=old,
            )
        )
    assert await sweep.rekick_stalled(runtime) == (0, 0)
    # the sender died: once its lease runs out the sweep takes the delivery back
    await Delivery.update({Delivery.lease_until: now - dt.timedelta(seconds=1)}).where(
        Delivery.notification == nid
    )
    await wait_deliveries(nid, "DELIVERED", count=1, within=5)
    assert len(sandbox.messages(to=device["token"])) == 1


async def test_a_fan_out_that_died_half_way_resumes_without_duplicates(
    api, sandbox, runtime, monkeypatch
):
    from api.delivery import fanout

    monkeypatch.setattr(fanout, "PAGE", 2)
    app, channel, devices = await setup_channel(api, expo=5)
    lost = LostTasks(monkeypatch, runtime, FAN_OUT)
    sent = await send(api, app, channelId=channel["id"], title="half")
    lost.restore()

    # run the fan-out by hand and "crash" after its first page of two is written and kicked
    calls = 0
    real_kick_sends = fanout.kick_sends

    class Crash(Exception):
        pass

    async def crashing_kick_sends(rt, deliveries, **kw):
        nonlocal calls
        calls += 1
        await real_kick_sends(rt, deliveries, **kw)
        raise Crash

    monkeypatch.setattr(fanout, "kick_sends", crashing_kick_sends)
    try:
        await fanout.fan_out(runtime, int(sent["id"]))
    except Crash:
        pass
    monkeypatch.setattr(fanout, "kick_sends", real_kick_sends)
    assert calls == 1
    row = await Notification.select().where(Notification.id == int(sent["id"])).first()
    assert row["fanout_done"] is False
    assert len(await delivery_rows(sent["id"])) == 2

    await Notification.update(
        {Notification.kicked_at: dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30)}
    ).where(Notification.id == int(sent["id"]))
    rows = await wait_deliveries(sent["id"], "DELIVERED", count=5, within=5)
    assert sorted(r["device"] for r in rows) == sorted(int(d["id"]) for d in devices)
    await wait_status(sent["id"], "COMPLETED")
    for d in devices:
        assert len(sandbox.messages(to=d["token"])) == 1


async def test_a_missed_status_update_is_settled(api, sandbox):
    app, channel, _ = await setup_channel(api, expo=1)
    sent = await send(api, app, channelId=channel["id"], title="x")
    await wait_status(sent["id"], "COMPLETED")
    await Notification.update(
        {Notification.status: "QUEUED", Notification.completed_at: None}
    ).where(Notification.id == int(sent["id"]))
    await wait_status(sent["id"], "COMPLETED")


async def test_a_lost_update_is_settled_behind_notifications_awaiting_receipts(api, sandbox, monkeypatch):
    """Notifications awaiting their receipts (SENT, with SENT deliveries) are legitimately where
    they are: the sweep leaves them alone, and settles a newer one whose update was lost even when
    more of them are waiting than it takes in one go."""
    # Fewer than are waiting, for the in-process periodic sweep too (it runs all along).
    monkeypatch.setattr(sweep, "BATCH", 1)
    app, channel, _ = await setup_channel(api, expo=1)
    ids = []
    for title in ("waiting-1", "waiting-2", "lost"):
        sent = await send(api, app, channelId=channel["id"], title=title)
        await wait_status(sent["id"], "COMPLETED")
        ids.append(int(sent["id"]))
    *waiting, lost = ids
    # Deliveries first: a notification SENT with all its deliveries final would be settled (rightly)
    # by the in-process sweep between the two writes.
    await Delivery.update({Delivery.status: "SENT", Delivery.ticket_id: None}).where(
        Delivery.notification.is_in(waiting))  # no ticket: no receipt check settles them meanwhile
    await Notification.update({Notification.status: "SENT", Notification.completed_at: None}).where(
        Notification.id.is_in(waiting))
    await Notification.update({Notification.status: "QUEUED", Notification.completed_at: None}).where(
        Notification.id == lost)
    probed: list[int] = []
    real = sweep.refresh_status

    async def recorded(notification_id: int) -> None:
        probed.append(notification_id)
        await real(notification_id)

    monkeypatch.setattr(sweep, "refresh_status", recorded)
    await sweep.settle_statuses()
    assert (await Notification.select(Notification.status).where(Notification.id == lost).first())["status"] \
        == "COMPLETED"
    assert not set(probed) & set(waiting), probed
    statuses = await Notification.select(Notification.status).where(Notification.id.is_in(waiting))
    assert [r["status"] for r in statuses] == ["SENT", "SENT"]

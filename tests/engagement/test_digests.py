"""Digests: five notifications within a channel's digest window give two pushes (the first at
once, then one digest with the latest title and body under the same collapse id), five unread
notifications in the inbox, and a ledger that says which push carried each one."""

from __future__ import annotations

import asyncio
import datetime as dt

from api.notifications.tables import Delivery
from tests.delivery.helpers import eventually, send, setup_channel, wait_deliveries, wait_status
from tests.support import factories as f

UPDATE = "mutation($c: ID!, $w: Int) { updateChannel(id: $c, digestWindow: $w) { digestWindow } }"


async def _rows_of(ids: list[str]) -> list[dict]:
    return await Delivery.select().where(Delivery.notification.is_in([int(i) for i in ids])).order_by(
        Delivery.notification)


async def _end_windows() -> None:
    """The window ends (its end moved into the past, as the clock would): the sweep sends the digest."""
    await Delivery.update({Delivery.next_attempt_at: dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)}).where(
        Delivery.status == "HELD")


async def test_five_notifications_give_two_pushes_and_five_unread(api, sandbox):
    app, channel, (device,) = await setup_channel(api, name="chat")
    await api.ok(UPDATE, {"c": channel["id"], "w": 60}, api_key=app.api_key)
    first = await send(api, app, channelId=channel["id"], title="t1", body="b1")
    await wait_deliveries(first["id"], "SENT", "DELIVERED", count=1)
    later = []
    for i in range(2, 6):
        later.append(await send(api, app, channelId=channel["id"], title=f"t{i}", body=f"b{i}"))
        await wait_deliveries(later[-1]["id"], "HELD", count=1)
    held = await _rows_of([n["id"] for n in later])
    assert {r["reason"] for r in held} == {"Digest"}
    assert len({r["next_attempt_at"] for r in held}) == 1  # one window for all
    await asyncio.sleep(0.4)
    assert len(sandbox.messages(to=device["token"])) == 1

    await _end_windows()

    async def settled():
        rows = await _rows_of([n["id"] for n in later])
        return rows if all(r["status"] in ("SENT", "DELIVERED", "SKIPPED") for r in rows) else None

    rows = await eventually(settled, what="digest sent")
    carrier = rows[-1]
    assert carrier["status"] in ("SENT", "DELIVERED") and carrier["digest_count"] == 4
    assert [(r["status"], r["reason"], r["digest_of"]) for r in rows[:-1]] == [("SKIPPED", "Digested", carrier["id"])] * 3

    pushes = sandbox.messages(to=device["token"])
    assert len(pushes) == 2
    assert [p["message"]["collapseId"] for p in pushes] == [f"digest-{channel['id']}"] * 2
    assert (pushes[1]["message"]["title"], pushes[1]["message"]["body"]) == ("4 new in #chat", "t5: b5")
    assert pushes[1]["message"]["data"]["notificationId"] == later[-1]["id"]

    inbox = await api.ok("query($t: String) { notifications(deviceToken: $t) { nodes { title read } } }",
                         {"t": device["token"]})
    assert [(n["title"], n["read"]) for n in inbox["notifications"]["nodes"]] == [
        (f"t{i}", False) for i in range(5, 0, -1)]
    ledger = await api.ok("query($n: ID!) { deliveries(notificationId: $n) { nodes { status reason digestOf } } }",
                          {"n": later[0]["id"]}, api_key=app.api_key)
    assert ledger["deliveries"]["nodes"] == [{"status": "SKIPPED", "reason": "Digested", "digestOf": str(carrier["id"])}]


async def test_critical_and_other_devices_are_not_held(api, sandbox):
    app, channel, (device,) = await setup_channel(api, name="ops")
    await api.ok(UPDATE, {"c": channel["id"], "w": 60}, api_key=app.api_key)
    first = await send(api, app, channelId=channel["id"], title="one")
    await wait_deliveries(first["id"], "SENT", "DELIVERED", count=1)
    newcomer = await f.make_expo_device(api)
    await f.subscribe(api, newcomer, channel)
    second = await send(api, app, channelId=channel["id"], title="two")
    rows = {r["device"]: r for r in await wait_deliveries(second["id"], "HELD", "SENT", "DELIVERED", count=2)}
    assert rows[int(device["id"])]["status"] == "HELD"  # within the window for the first device
    assert rows[int(newcomer["id"])]["status"] in ("SENT", "DELIVERED")  # its first
    alarm = await send(api, app, channelId=channel["id"], title="fire", critical=True)
    await wait_deliveries(alarm["id"], "SENT", "DELIVERED", count=2)


async def test_a_single_held_notification_goes_out_as_itself(api, sandbox):
    app, channel, (device,) = await setup_channel(api, name="quiet")
    await api.ok(UPDATE, {"c": channel["id"], "w": 60}, api_key=app.api_key)
    first = await send(api, app, channelId=channel["id"], title="one")
    await wait_deliveries(first["id"], "SENT", "DELIVERED", count=1)
    second = await send(api, app, channelId=channel["id"], title="two", body="only")
    await wait_deliveries(second["id"], "HELD", count=1)
    await _end_windows()
    (row,) = await wait_deliveries(second["id"], "SENT", "DELIVERED", count=1)
    assert row["digest_count"] == 1
    pushes = sandbox.messages(to=device["token"])
    assert (pushes[-1]["message"]["title"], pushes[-1]["message"]["body"]) == ("two", "only")


async def test_a_push_of_a_notification_already_completed_still_opens_the_window(api, sandbox):
    """A Web Push is DELIVERED at once, so its notification is COMPLETED before the next send: the
    digest check must still see that push (the bound on notifications that may have pushed within
    the window counts those completed within it, not only those still open)."""
    app, channel, _ = await setup_channel(api, name="web", expo=0)
    device = await f.make_web_device(api, sandbox)
    await f.subscribe(api, device, channel)
    await api.ok(UPDATE, {"c": channel["id"], "w": 60}, api_key=app.api_key)
    first = await send(api, app, channelId=channel["id"], title="one")
    await wait_deliveries(first["id"], "DELIVERED", count=1)
    await wait_status(first["id"], "COMPLETED")
    second = await send(api, app, channelId=channel["id"], title="two")
    (row,) = await wait_deliveries(second["id"], "HELD", count=1)
    assert row["reason"] == "Digest"

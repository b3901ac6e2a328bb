"""updateNotification and retractNotification: the inbox, live subscribers and the devices a
notification reached see the correction (the sandbox shows the replacement's collapse id)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest

from api.notifications.tables import Delivery, Notification
from tests.delivery.helpers import eventually, eventually_sync, send, setup_channel, wait_deliveries
from tests.delivery.test_webpush import sub_id
from tests.support import factories as f

UPDATE = ("mutation($n: ID!, $i: UpdateNotificationInput!) { updateNotification(id: $n, input: $i)"
          " { id title body data status editedAt } }")
RETRACT = "mutation($n: ID!) { retractNotification(id: $n) { id status } }"
INBOX = "query($t: String) { notifications(deviceToken: $t) { nodes { id title body } } }"
LIVE = "subscription($t: String) { notifications(deviceToken: $t) { id title status } }"


async def _reached(api, sandbox, **fields):
    """An app, a channel with an Expo and a Web Push device, and a notification that reached both."""
    app, channel, (expo,) = await setup_channel(api)
    web = await f.make_web_device(api, sandbox)
    await f.subscribe(api, web, channel)
    sent = await send(api, app, channelId=channel["id"], **fields)
    await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=2)
    return app, channel, expo, web, sent


async def test_an_edit_reaches_the_inbox_live_subscribers_and_the_devices(api, sandbox):
    app, channel, expo, web, sent = await _reached(api, sandbox, title="Lunch at 1", body="room 4",
                                                    collapseKey="lunch")
    async with api.subscribe(LIVE, {"t": expo["token"]}) as next_payload:
        await asyncio.sleep(0.3)  # the stream's checks run before it listens (slower under load)
        data = await api.ok(UPDATE, {"n": sent["id"], "i": {"title": "Lunch at 2"}}, api_key=app.api_key)
        live = await next_payload(timeout=2)
    updated = data["updateNotification"]
    assert (updated["title"], updated["body"]) == ("Lunch at 2", "room 4")
    assert updated["status"] in ("SENT", "COMPLETED")
    assert updated["editedAt"] is not None
    assert live["data"]["notifications"] == {"id": sent["id"], "title": "Lunch at 2", "status": updated["status"]}
    inbox = await api.ok(INBOX, {"t": expo["token"]})
    assert inbox["notifications"]["nodes"] == [{"id": sent["id"], "title": "Lunch at 2", "body": "room 4"}]

    # The replacement: same collapse id, marked as an update, the new text.
    first, second = await eventually_sync(lambda: len(sandbox.messages(to=expo["token"])) == 2
                                          and sandbox.messages(to=expo["token"]), what="Expo replacement")
    assert first["message"]["collapseId"] == second["message"]["collapseId"] == "lunch"
    assert second["message"]["title"] == "Lunch at 2"
    assert second["message"]["data"] == {"notificationId": sent["id"], "notificationEvent": "updated"}
    pushes = await eventually_sync(lambda: len(sandbox.messages(to=sub_id(web))) == 2
                                   and sandbox.messages(to=sub_id(web)), what="Web Push replacement")
    assert [p["headers"]["topic"] for p in pushes] == ["lunch", "lunch"]
    replaced = json.loads(pushes[1]["payload"])
    assert (replaced["id"], replaced["title"], replaced["event"]) == (sent["id"], "Lunch at 2", "updated")
    # The ledger still says what happened to the notification itself: one delivery per device.
    assert await Delivery.count().where(Delivery.notification == int(sent["id"])) == 2


async def test_fields_left_out_stay_and_null_clears(api, sandbox):
    app, channel, _, _, sent = await _reached(api, sandbox, title="t", body="b", data={"k": 1})
    data = await api.ok(UPDATE, {"n": sent["id"], "i": {"body": None, "data": {"k": 2}}}, api_key=app.api_key)
    assert {k: data["updateNotification"][k] for k in ("title", "body", "data")} == {
        "title": "t", "body": None, "data": {"k": 2}}


@pytest.mark.parametrize(
    "change, code",
    [
        ({}, "BAD_USER_INPUT"),
        ({"title": "x" * 1025}, "BAD_USER_INPUT"),
        ({"data": [1]}, "BAD_USER_INPUT"),
        ({"title": None, "body": None}, "BAD_USER_INPUT"),  # nothing left to show
        ({"body": "x" * 5000}, "PAYLOAD_TOO_LARGE"),
    ],
)
async def test_a_bad_edit_is_refused_and_changes_nothing(api, sandbox, change, code):
    app, channel, (device,) = await setup_channel(api)
    sent = await send(api, app, channelId=channel["id"], title="t", body="b")
    await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=1)
    error = await api.error(UPDATE, {"n": sent["id"], "i": change}, api_key=app.api_key)
    assert error["extensions"]["code"] == code
    row = await Notification.select().where(Notification.id == int(sent["id"])).first()
    assert (row["title"], row["body"], row["edited_at"]) == ("t", "b", None)
    await asyncio.sleep(0.2)
    assert len(sandbox.messages(to=device["token"])) == 1


async def test_a_scheduled_notification_is_edited_without_a_push(api, sandbox):
    app, channel, (device,) = await setup_channel(api)
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    sent = await send(api, app, channelId=channel["id"], title="soon", sendAt=later)
    data = await api.ok(UPDATE, {"n": sent["id"], "i": {"title": "later"}}, api_key=app.api_key)
    assert (data["updateNotification"]["title"], data["updateNotification"]["status"]) == ("later", "SCHEDULED")
    await asyncio.sleep(0.2)
    assert sandbox.messages() == []


async def test_retraction_removes_it_stops_what_is_unsent_and_tells_the_devices(api, sandbox):
    app, channel, expo, web, sent = await _reached(api, sandbox, title="wrong", collapseKey="oops")
    # A third device whose delivery waits for a retry: retracting stops it.
    late = await f.make_expo_device(api)
    await f.subscribe(api, late, channel)
    now = dt.datetime.now(dt.UTC)
    await Delivery.insert(Delivery(notification=int(sent["id"]), device=int(late["id"]), platform="EXPO",
                                   status="PENDING", next_attempt_at=now + dt.timedelta(hours=1),
                                   created_at=now, updated_at=now))
    data = await api.ok(RETRACT, {"n": sent["id"]}, api_key=app.api_key)
    assert data["retractNotification"] == {"id": sent["id"], "status": "RETRACTED"}

    rows = {r["device"]: r for r in await Delivery.select().where(Delivery.notification == int(sent["id"]))}
    assert (rows[int(late["id"])]["status"], rows[int(late["id"])]["reason"]) == ("SKIPPED", "Retracted")
    assert rows[int(expo["id"])]["status"] in ("SENT", "DELIVERED")  # what happened stays in the ledger
    for device in (expo, late):
        assert (await api.ok(INBOX, {"t": device["token"]}))["notifications"]["nodes"] == []
        error = await api.error("query($n: ID!, $t: String) { notification(id: $n, deviceToken: $t) { id } }",
                                {"n": sent["id"], "t": device["token"]})
        assert error["extensions"]["code"] == "NOT_FOUND"

    # A data-only push to the devices it reached, none to the one it never reached.
    _, removal = await eventually_sync(lambda: len(sandbox.messages(to=expo["token"])) == 2
                                       and sandbox.messages(to=expo["token"]), what="retraction push")
    assert removal["message"]["data"] == {"notificationId": sent["id"], "notificationEvent": "retracted"}
    assert "title" not in removal["message"] and "body" not in removal["message"]
    assert removal["message"]["collapseId"] == "oops"
    pushes = await eventually_sync(lambda: len(sandbox.messages(to=sub_id(web))) == 2
                                   and sandbox.messages(to=sub_id(web)), what="Web Push retraction")
    assert json.loads(pushes[1]["payload"]) == {"id": sent["id"], "channel": channel["name"], "event": "retracted"}
    assert sandbox.messages(to=late["token"]) == []

    # Retracting again changes nothing and pushes nothing; editing or canceling it is a conflict.
    again = await api.ok(RETRACT, {"n": sent["id"]}, api_key=app.api_key)
    assert again["retractNotification"]["status"] == "RETRACTED"
    assert (await api.error(UPDATE, {"n": sent["id"], "i": {"title": "x"}}, api_key=app.api_key))[
        "extensions"]["code"] == "CONFLICT"
    assert (await api.error("mutation($n: ID!) { cancelNotification(id: $n) { id } }", {"n": sent["id"]},
                            api_key=app.api_key))["extensions"]["code"] == "CONFLICT"
    await asyncio.sleep(0.3)
    assert len(sandbox.messages(to=expo["token"])) == 2


async def test_a_canceled_notification_cannot_be_edited_or_retracted(api, sandbox):
    app, channel, _ = await setup_channel(api)
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    sent = await send(api, app, channelId=channel["id"], title="soon", sendAt=later)
    await api.ok("mutation($n: ID!) { cancelNotification(id: $n) { id } }", {"n": sent["id"]}, api_key=app.api_key)
    for query, variables in ((UPDATE, {"n": sent["id"], "i": {"title": "x"}}), (RETRACT, {"n": sent["id"]})):
        assert (await api.error(query, variables, api_key=app.api_key))["extensions"]["code"] == "CONFLICT"


async def test_a_replacement_goes_with_the_apps_own_expo_token(api, sandbox):
    app, channel, (expo,) = await setup_channel(api)
    await api.ok("mutation($a: ID!) { setExpoAccessToken(appId: $a, token: \"own-expo-token\") { id } }",
                 {"a": app.id}, token=app.owner.token)
    sent = await send(api, app, channelId=channel["id"], title="v1", collapseKey="k")
    await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=1)
    await api.ok(UPDATE, {"n": sent["id"], "i": {"title": "v2"}}, api_key=app.api_key)
    first, second = await eventually_sync(lambda: len(sandbox.messages(to=expo["token"])) == 2
                                          and sandbox.messages(to=expo["token"]), what="Expo replacement")
    assert second["message"]["title"] == "v2"
    # An Expo project with enhanced push security refuses any other token.
    assert first["authorization"] == second["authorization"] == "Bearer own-expo-token"


async def test_fcm_and_apns_devices_get_the_edit_and_the_retraction_too(api, sandbox):
    from tests.delivery.test_native import native_app, subscribed

    app, channel = await native_app(api, sandbox, project="edits-project", team="TEAMEDIT01")
    android = await subscribed(api, app, channel, "FCM")
    ios = await subscribed(api, app, channel, "APNS")
    sent = await send(api, app, channelId=channel["id"], title="Lunch at 1", collapseKey="lunch")
    await wait_deliveries(sent["id"], "SENT", "DELIVERED", count=2)
    await api.ok(UPDATE, {"n": sent["id"], "i": {"title": "Lunch at 2"}}, api_key=app.api_key)
    fcm = await eventually_sync(lambda: len(sandbox.messages(to=android["token"])) == 2
                                and sandbox.messages(to=android["token"]), what="FCM replacement")
    assert fcm[1]["message"]["notification"]["title"] == "Lunch at 2"
    assert fcm[1]["message"]["android"]["collapse_key"] == "lunch"
    assert fcm[1]["message"]["data"] == {"notificationId": sent["id"], "notificationEvent": "updated"}
    apns = await eventually_sync(lambda: len(sandbox.messages(to=ios["token"])) == 2
                                 and sandbox.messages(to=ios["token"]), what="APNs replacement")
    assert apns[1]["headers"]["apns-collapse-id"] == "lunch"
    assert apns[1]["message"]["aps"]["alert"]["title"] == "Lunch at 2"

    await api.ok(RETRACT, {"n": sent["id"]}, api_key=app.api_key)
    fcm = await eventually_sync(lambda: len(sandbox.messages(to=android["token"])) == 3
                                and sandbox.messages(to=android["token"]), what="FCM retraction")
    assert "notification" not in fcm[2]["message"]
    assert fcm[2]["message"]["data"] == {"notificationId": sent["id"], "notificationEvent": "retracted"}
    apns = await eventually_sync(lambda: len(sandbox.messages(to=ios["token"])) == 3
                                 and sandbox.messages(to=ios["token"]), what="APNs retraction")
    assert apns[2]["headers"]["apns-push-type"] == "background"
    assert apns[2]["message"]["data"] == {"notificationId": sent["id"], "notificationEvent": "retracted"}


async def test_edits_and_retractions_take_their_unit_of_the_apps_send_rate(api, sandbox, settings):
    """Each pushes to every device the notification reached: without a limit, a loop of edits
    pushed without end."""
    settings.app_rate = "3/minute"
    app, channel, _ = await setup_channel(api)
    sent = await send(api, app, channelId=channel["id"], title="v1")  # the first unit
    await api.ok(UPDATE, {"n": sent["id"], "i": {"title": "v2"}}, api_key=app.api_key)
    await api.ok(UPDATE, {"n": sent["id"], "i": {"title": "v3"}}, api_key=app.api_key)
    refused = await api.error(UPDATE, {"n": sent["id"], "i": {"title": "v4"}}, api_key=app.api_key)
    assert refused["extensions"]["code"] == "RATE_LIMITED"
    refused = await api.error(RETRACT, {"n": sent["id"]}, api_key=app.api_key)
    assert refused["extensions"]["code"] == "RATE_LIMITED"
    assert (await Notification.select(Notification.title).where(Notification.id == int(sent["id"])))[0]["title"] == "v3"


async def test_a_refused_edit_or_retraction_costs_no_unit_of_the_send_rate(api, sandbox, settings):
    """Only an edit that pushes spends: before, an invalid edit, an empty one, an edit of a
    retracted notification and a second retraction each took a unit, and a client's mistakes
    left the app's real sends RATE_LIMITED."""
    settings.app_rate = "3/minute"
    app, channel, _ = await setup_channel(api)
    sent = await send(api, app, channelId=channel["id"], title="v1")  # the first unit
    other = await send(api, app, channelId=channel["id"], title="other")  # the second
    for refused_input, code in (({"title": "x" * 5000}, "BAD_USER_INPUT"), ({}, "BAD_USER_INPUT")):
        error = await api.error(UPDATE, {"n": sent["id"], "i": refused_input}, api_key=app.api_key)
        assert error["extensions"]["code"] == code
    await api.ok(RETRACT, {"n": other["id"]}, api_key=app.api_key)  # the third, and the last
    assert (await api.ok(RETRACT, {"n": other["id"]}, api_key=app.api_key))["retractNotification"]["status"] == "RETRACTED"
    error = await api.error(UPDATE, {"n": other["id"], "i": {"title": "again"}}, api_key=app.api_key)
    assert error["extensions"]["code"] == "CONFLICT"
    # Nothing refused was counted: the rate is spent by the three that pushed, and only then.
    error = await api.error(UPDATE, {"n": sent["id"], "i": {"title": "v2"}}, api_key=app.api_key)
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert (await Notification.select(Notification.title).where(Notification.id == int(sent["id"])))[0]["title"] == "v1"


@pytest.mark.parametrize("change", ["edit", "retract"])
async def test_a_replacement_whose_task_was_lost_is_pushed_by_the_sweep(api, sandbox, runtime, monkeypatch, change):
    """Replacements were best effort: a kick lost to a Redis blip, or a worker killed in the middle
    of the task, left the devices showing the first version, or a retracted notification. The
    notification now says a replacement is due until its task has pushed it, and the sweep kicks
    it again; once pushed, it is not pushed again."""
    from api.delivery.pipeline import PUSH_REPLACEMENTS
    from tests.delivery.test_sweep import LostTasks

    lost = LostTasks(monkeypatch, runtime, PUSH_REPLACEMENTS)
    app, channel, expo, web, sent = await _reached(api, sandbox, title="Lunch at 1", collapseKey="lunch")
    if change == "edit":
        await api.ok(UPDATE, {"n": sent["id"], "i": {"title": "Lunch at 2"}}, api_key=app.api_key)
    else:
        await api.ok(RETRACT, {"n": sent["id"]}, api_key=app.api_key)
    assert lost.lost == [(PUSH_REPLACEMENTS, (int(sent["id"]),))]
    await asyncio.sleep(0.3)
    assert len(sandbox.messages(to=expo["token"])) == 1  # the first push only, for now
    lost.restore()

    # After BOOPER_STALL_AFTER (1 s here) the sweep kicks the replacement again.
    first, second = await eventually_sync(lambda: len(sandbox.messages(to=expo["token"])) == 2
                                          and sandbox.messages(to=expo["token"]), what="the replacement", within=8)
    event = "updated" if change == "edit" else "retracted"
    assert second["message"]["data"] == {"notificationId": sent["id"], "notificationEvent": event}
    assert second["message"]["collapseId"] == first["message"]["collapseId"] == "lunch"
    await eventually_sync(lambda: len(sandbox.messages(to=sub_id(web))) == 2, what="the Web Push replacement")

    async def cleared() -> bool:
        row = await Notification.select(Notification.replacements_due_at).where(
            Notification.id == int(sent["id"])).first()
        return row["replacements_due_at"] is None

    await eventually(cleared, what="the task to clear its mark")
    await asyncio.sleep(1.6)  # past another stall period: pushed once
    assert len(sandbox.messages(to=expo["token"])) == 2 and len(sandbox.messages(to=sub_id(web))) == 2


async def test_a_replacement_task_stops_when_a_newer_change_took_over_and_a_second_kick_pushes_nothing(
    api, sandbox, runtime, monkeypatch
):
    """A page at a time: once a newer change has marked the notification again, the older task
    stops rather than push its older version to the devices left (the newer task pushes them
    all). And the same change's task kicked twice (the sweep's re-kick beside a slow first run)
    finds the mark cleared and pushes nothing."""
    from api.delivery.pipeline import PUSH_REPLACEMENTS
    from api.engagement import replacements
    from tests.delivery.test_sweep import LostTasks

    lost = LostTasks(monkeypatch, runtime, PUSH_REPLACEMENTS)
    monkeypatch.setattr(runtime.settings, "stall_after", 60.0)  # the sweep stays out of it
    app, channel, expo, web, sent = await _reached(api, sandbox, title="v1", collapseKey="v")
    await api.ok(UPDATE, {"n": sent["id"], "i": {"title": "v2"}}, api_key=app.api_key)
    nid = int(sent["id"])
    monkeypatch.setattr(replacements, "PAGE", 1)  # one device a page: Expo's, then Web Push's
    pages = 0
    push_expo = replacements._push_expo

    async def newer_change_after_the_first_page(*args, **kwargs):
        nonlocal pages
        pages += 1
        handed = await push_expo(*args, **kwargs)
        if pages == 1:  # updateNotification's own write: the mark, moved
            await Notification.update({Notification.replacements_due_at: dt.datetime.now(dt.UTC)}).where(
                Notification.id == nid)
        return handed

    monkeypatch.setattr(replacements, "_push_expo", newer_change_after_the_first_page)
    assert await replacements.push_replacements(runtime, nid, owed=True) == 1  # the first page only
    assert len(sandbox.messages(to=sub_id(web))) == 1  # the second page was left to the newer task
    assert await replacements.push_replacements(runtime, nid, owed=True) == 2  # the newer task: all
    assert await replacements.push_replacements(runtime, nid, owed=True) == 0  # cleared: nothing twice
    assert len(sandbox.messages(to=expo["token"])) == 3 and len(sandbox.messages(to=sub_id(web))) == 2
    assert lost.lost == [(PUSH_REPLACEMENTS, (nid,))]


async def test_editing_a_scheduled_notification_owes_no_replacement_unless_it_went_out_meanwhile(
    api, sandbox, runtime
):
    from api.engagement import edits
    from api.notifications import service

    app, channel, _ = await setup_channel(api, expo=1)
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    sent = await send(api, app, channelId=channel["id"], title="later", sendAt=later)
    await api.ok(UPDATE, {"n": sent["id"], "i": {"title": "later, corrected"}}, api_key=app.api_key)
    row = await Notification.select(Notification.status, Notification.replacements_due_at).where(
        Notification.id == int(sent["id"])).first()
    assert row == {"status": "SCHEDULED", "replacements_due_at": None}

    # Read as SCHEDULED, dispatched before the edit's write (while it spent the app's send rate):
    # its devices may have the version before the edit, so a replacement is owed.
    scheduled = await service.get(int(sent["id"]))

    async def dispatched_meanwhile() -> None:
        await Notification.update({Notification.status: "SENT"}).where(Notification.id == int(sent["id"]))

    new = await edits.update_notification(runtime, scheduled, "news", title="corrected again",
                                          spend=dispatched_meanwhile)
    assert new["status"] == "SENT" and new["replacements_due_at"] is not None


async def test_a_replacement_task_overtaken_by_a_newer_edit_kicks_one_more_pass(api, sandbox, runtime, monkeypatch):
    """Its last page may have gone out after the newer edit's task had pushed those devices: one
    more pass of the current version, kicked after that page, is the last to reach them."""
    from api.delivery.pipeline import PUSH_REPLACEMENTS
    from api.engagement import replacements
    from tests.delivery.test_sweep import LostTasks

    lost = LostTasks(monkeypatch, runtime, PUSH_REPLACEMENTS)
    monkeypatch.setattr(runtime.settings, "stall_after", 60.0)
    app, channel, expo, web, sent = await _reached(api, sandbox, title="v1", collapseKey="v")
    await api.ok(UPDATE, {"n": sent["id"], "i": {"title": "v2"}}, api_key=app.api_key)
    monkeypatch.setattr(replacements, "PAGE", 1)
    push_expo = replacements._push_expo

    async def newer_edit_after_the_page(*args, **kwargs):
        handed = await push_expo(*args, **kwargs)
        if len(lost.lost) == 1:
            await api.ok(UPDATE, {"n": sent["id"], "i": {"title": "v3"}}, api_key=app.api_key)
        return handed

    monkeypatch.setattr(replacements, "_push_expo", newer_edit_after_the_page)
    assert await replacements.push_replacements(runtime, int(sent["id"]), owed=True) == 1
    # The first edit's kick, the second edit's, and the pass kicked after the overtaken page.
    assert lost.lost == [(PUSH_REPLACEMENTS, (int(sent["id"]),))] * 3
    assert sandbox.messages(to=expo["token"])[-1]["message"]["title"] == "v2"  # the overtaken page
    monkeypatch.setattr(replacements, "_push_expo", push_expo)
    assert await replacements.push_replacements(runtime, int(sent["id"]), owed=True) == 2
    assert sandbox.messages(to=expo["token"])[-1]["message"]["title"] == "v3"


async def test_a_slow_page_keeps_its_mark_and_a_bug_gives_it_up(api, sandbox, runtime, monkeypatch):
    """A page slower than BOOPER_STALL_AFTER (a push service that hangs until the provider's
    timeout) is not taken for a stalled task: the mark is renewed while it goes on. A task that
    fails on a bug gives the mark up: the sweep would push its first pages again for ever."""
    from api.delivery.pipeline import PUSH_REPLACEMENTS
    from api.engagement import replacements
    from tests.delivery.test_sweep import LostTasks

    lost = LostTasks(monkeypatch, runtime, PUSH_REPLACEMENTS)
    monkeypatch.setattr(runtime.settings, "stall_after", 1.5)  # renewed every second
    app, channel, expo, web, sent = await _reached(api, sandbox, title="v1", collapseKey="v")
    await api.ok(UPDATE, {"n": sent["id"], "i": {"title": "v2"}}, api_key=app.api_key)
    push_expo = replacements._push_expo

    async def slow(*args, **kwargs):
        await asyncio.sleep(3.5)  # the sweep runs every 0.2 s meanwhile
        return await push_expo(*args, **kwargs)

    monkeypatch.setattr(replacements, "_push_expo", slow)
    assert await replacements.push_replacements(runtime, int(sent["id"]), owed=True) == 2
    assert lost.lost == [(PUSH_REPLACEMENTS, (int(sent["id"]),))]  # the edit's own kick only

    async def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    await api.ok(UPDATE, {"n": sent["id"], "i": {"title": "v3"}}, api_key=app.api_key)
    monkeypatch.setattr(replacements, "_push_expo", broken)
    with pytest.raises(ZeroDivisionError):
        await replacements.push_replacements(runtime, int(sent["id"]), owed=True)
    row = await Notification.select(Notification.replacements_due_at).where(
        Notification.id == int(sent["id"])).first()
    assert row["replacements_due_at"] is None

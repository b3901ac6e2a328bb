"""Replacement pushes after an edit or a retraction, to the devices a notification reached.

An edited notification goes out again with the same collapse id (Expo `collapseId`, Web Push
`Topic`), so a device or push service that still holds the first version replaces it rather than
stacking a second one; clients see `notificationEvent: "updated"` in Expo's data (`event` in the
Web Push payload) and the same notification id. A retraction is a data-only push with
`notificationEvent: "retracted"` that tells the app (or service worker) to remove it.

No collapse id is invented for a notification sent without a collapseKey: FCM keeps at most
four collapse keys per device while it is offline, so a key per notification would drop others.
Such a replacement still carries the notification id, which clients use to replace their copy
(the README's service worker shows it with `tag: id`).

Outside the ledger (the delivery rows keep what happened to the notification itself), but owed:
the change marks the notification (`replacements_due_at`), the task renews the mark after each
page (and while a slow page goes on) and clears it when every page is pushed, and the sweep
kicks the task again when the mark has not moved for BOOPER_STALL_AFTER (a lost kick, a killed
worker, an outage mid-way). At least once: a device may get a page's replacement twice (shown
once where there is a collapse id; clients match the notification id otherwise). A task that
finds the mark moved by someone else (a newer change, or the sweep's re-kick) stops; after a
newer change it kicks one more pass, so the current version is the last to reach each device. A
task that fails on a bug gives the mark up rather than have the sweep push its first pages for
ever. A provider's refusal of a replacement (Expo down, a 5xx) is logged and not retried: owed
covers losing the database, Redis or the worker, not the provider. Pages of PAGE deliveries, each page one query, Expo
requests of 100 messages, Web Push with the sender's concurrency.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from api.apps import credentials
from api.channels.tables import Channel
from api.delivery import ledger, payload, pipeline
from api.delivery.native_senders import push_one
from api.delivery.providers import providers
from api.notifications import service as notifications
from api.notifications.tables import Delivery, Notification
from api.outage import is_outage
from api.providers.expo import MAX_MESSAGES_PER_REQUEST, build_message
from api.providers.failures import Outcome, ProviderFailure
from api.runtime import Runtime

PAGE = 1000
NATIVE_CONCURRENCY = 32  # requests in flight over the HTTP/2 connections of FCM and APNs
REACHED = ("SENT", "DELIVERED")
log = logging.getLogger("booper.engagement")


class CatchUp:
    """Deliveries a sender records as reached, of notifications edited or retracted since it
    loaded them (`sent`: the versions it pushed). The change's own replacement task lists the
    devices reached once the change has committed: a record committed after that listing is
    missed by it, so the sender pushes those replacements itself. The versions are read as the
    record's transaction's last statement (`read`, ledger.apply's last_in_transaction): a change
    seen there committed before the record, and one not seen commits after it, when the task
    finds the record. A device may get a replacement twice when the task lists it after the record
    all the same; it shows it once (same collapse id)."""

    def __init__(self, sent: dict[int, dict]) -> None:
        self.sent, self.changed = sent, {}

    async def read(self, written: list[dict]) -> None:
        reached = sorted({r["notification"] for r in written if r["status"] in REACHED})
        self.changed = {
            n["id"]: n for n in (await notifications.get_many(reached) if reached else [])
            if n is not None and (n["status"] == "RETRACTED"
                                  or n["edited_at"] != (self.sent.get(n["id"]) or n)["edited_at"])
        }

    async def push(self, runtime: Runtime, written: list[dict]) -> None:
        try:
            for nid in self.changed:
                await push_replacements(runtime, nid, only=[r["id"] for r in written
                                                             if r["notification"] == nid and r["status"] in REACHED])
        except Exception:  # noqa: BLE001 - best effort, like the replacements themselves
            log.exception("replacements for deliveries recorded after an edit or a retraction were not pushed")


async def push_replacements(runtime: Runtime, notification_id: int, only: list[int] | None = None, *,
                            owed: bool = False) -> int:
    """Push the notification's current version (or its retraction) to every active device it
    reached (`only`: of these deliveries); returns how many pushes were handed to a provider.
    `owed`: the change's own task, which keeps the notification's mark (see the module's doc)."""
    n = await notifications.get(notification_id)
    if n is None:
        return 0
    if not owed:
        return await _push_pages(runtime, n, only, None)
    if n.get("replacements_due_at") is None:
        return 0  # pushed already: a second kick of the same change
    mark = _Mark(notification_id, n["replacements_due_at"])
    heartbeat = asyncio.create_task(mark.keep(every=max(1.0, runtime.settings.stall_after / 3)))
    try:
        handed = await _push_pages(runtime, n, None, mark)
    except Exception as exc:
        if not is_outage(exc):  # a bug would have the sweep push the first pages again for ever
            log.exception("replacements of notification %s failed; not retried", notification_id)
            await mark.move(None)
        raise
    finally:
        heartbeat.cancel()
    if mark.lost:
        await _after_losing_the_mark(runtime, n)
    else:
        await mark.move(None)
    return handed


async def _push_pages(runtime: Runtime, n: dict, only: list[int] | None, mark: _Mark | None) -> int:
    """A page of reached deliveries at a time; stops when the mark is lost (after the page)."""
    among, among_args = ledger.ids_in("d.id", only) if only else ("TRUE", [])
    channel = await Channel.select(Channel.name).where(Channel.id == n["channel"]).first() if n["channel"] else None
    channel_name = channel["name"] if channel else ""
    after, handed = 0, 0
    while True:
        rows = await Delivery.raw(
            "SELECT d.id, d.platform, v.id AS device, v.app, v.token, v.p256dh, v.auth FROM deliveries d"
            " JOIN devices v ON v.id = d.device"
            " WHERE d.notification = {} AND d.status IN ('SENT', 'DELIVERED') AND v.active AND d.id > {}"
            f" AND {among} ORDER BY d.id LIMIT {{}}",
            n["id"], after, *among_args, PAGE,
        )
        if not rows:
            return handed
        after = rows[-1]["id"]
        native = [r for r in rows if r["platform"] in ("FCM", "APNS")]
        # The app's own credentials (its Expo access token; FCM and APNs keys of the devices' app),
        # one lookup per page for every transport, as for the notification itself.
        apps = {a for a in [n["app"], *(r["app"] for r in native)] if a is not None}
        creds = await credentials.credentials_of_apps(apps, runtime.secret_key) if apps else {}
        handed += await _push_expo(runtime, n, [r for r in rows if r["platform"] == "EXPO"], creds.get(n["app"]))
        handed += await _push_webpush(runtime, n, channel_name, [r for r in rows if r["platform"] == "WEB"])
        handed += await _push_native(runtime, n, native, creds)
        if mark is not None and not await mark.move(dt.datetime.now(dt.UTC)):
            return handed


class _Mark:
    """A task's hold on the notification's `replacements_due_at`: renewed after each page and
    every `every` seconds while a page is slow (a push service that hangs until the provider
    timeout), so that the sweep re-kicks only a task that stopped; `lost` once another moved it."""

    def __init__(self, notification_id: int, at: dt.datetime) -> None:
        self.notification_id, self.at, self.lost = notification_id, at, False
        self._lock = asyncio.Lock()  # the heartbeat's and the pages' moves, one at a time

    async def move(self, to: dt.datetime | None) -> bool:
        """Renew (`to`: now) or clear (None) the mark if it is still this task's."""
        async with self._lock:
            if self.lost:
                return False
            moved = await Notification.update({Notification.replacements_due_at: to}).where(
                (Notification.id == self.notification_id) & (Notification.replacements_due_at == self.at)
            ).returning(Notification.id)
            if moved and to is not None:
                self.at = to
            self.lost = not moved
            return bool(moved)

    async def keep(self, every: float) -> None:
        while await asyncio.sleep(every, result=True) and await self.move(dt.datetime.now(dt.UTC)):
            pass


async def _after_losing_the_mark(runtime: Runtime, pushed: dict) -> None:
    """Another moved the mark: the sweep's re-kick after a stall (it pushes the same version
    again), or a newer change, whose task may have pushed some devices before this one's last
    page went out with the older version. Then one more pass, kicked now, pushes the current
    version after it: the newer task loses the mark and stops, this pass finishes."""
    current = await notifications.get(pushed["id"])
    if current is None or (current["status"], current["edited_at"]) == (pushed["status"], pushed["edited_at"]):
        log.info("replacements of notification %s left to the sweep's re-kick", pushed["id"])
        return
    await Notification.update({Notification.replacements_due_at: dt.datetime.now(dt.UTC)}).where(
        Notification.id == pushed["id"])
    await runtime.queue.kick(pipeline.PUSH_REPLACEMENTS, pushed["id"])


async def rekick_stalled(runtime: Runtime) -> int:
    """The sweep's part: kick the task again for every notification whose mark has not moved for
    BOOPER_STALL_AFTER (renewed now, so the next sweep leaves it while it queues)."""
    now = dt.datetime.now(dt.UTC)
    stalled = await Notification.update({Notification.replacements_due_at: now}).where(
        Notification.replacements_due_at < now - dt.timedelta(seconds=runtime.settings.stall_after)
    ).returning(Notification.id)
    for row in stalled:
        await runtime.queue.kick(pipeline.PUSH_REPLACEMENTS, row["id"])
    if stalled:
        log.warning("sweep re-kicked the replacements of %d edited or retracted notifications", len(stalled))
    return len(stalled)


def expo_replacement(token: str, n: dict[str, Any]) -> dict[str, Any]:
    if n["status"] == "RETRACTED":
        return build_message(token, data={"notificationId": str(n["id"]), "notificationEvent": "retracted"},
                             priority="high", collapse_id=n["collapse_key"])
    message = payload.expo_message(token, n)
    message["data"] = {**message.get("data", {}), "notificationEvent": "updated"}
    return message


def webpush_replacement(n: dict[str, Any], channel_name: str) -> bytes:
    if n["status"] == "RETRACTED":
        return orjson.dumps({"id": str(n["id"]), "channel": channel_name, "event": "retracted"})
    return orjson.dumps({**orjson.loads(payload.webpush_payload(n, channel_name)), "event": "updated"})


async def _push_expo(runtime: Runtime, n: dict, rows: list[dict],
                     app_creds: credentials.AppProviderCredentials | None) -> int:
    if not rows:
        return 0
    expo = providers(runtime).expo
    await expo.pacer.acquire(len(rows))
    # The app's own Expo access token when it set one (an Expo project with enhanced push security
    # refuses the server's).
    access_token = app_creds.expo_access_token if app_creds else None

    async def request(chunk: list[dict]) -> int:
        try:
            outcomes = await expo.send([expo_replacement(r["token"], n) for r in chunk], paced=True,
                                       access_token=access_token)
        except ProviderFailure as failure:
            log.warning("replacement pushes of notification %s failed: %s", n["id"], failure.code)
            return 0
        return sum(1 for o in outcomes if o.ok)

    step = MAX_MESSAGES_PER_REQUEST
    return sum(await asyncio.gather(*(request(rows[i : i + step]) for i in range(0, len(rows), step))))


async def _push_webpush(runtime: Runtime, n: dict, channel_name: str, rows: list[dict]) -> int:
    if not rows:
        return 0
    sender = providers(runtime).webpush
    body = webpush_replacement(n, channel_name)
    ttl = n["ttl"] if n["ttl"] is not None else 2419200
    urgency, topic = payload.WEBPUSH_URGENCY[n["priority"]], payload.webpush_topic(n)

    async def send_one(r: dict) -> Outcome:
        return await sender.send(r["token"], r["p256dh"], r["auth"], body, ttl=ttl, urgency=urgency, topic=topic)

    return await _accepted(rows, sender.concurrency, send_one)


async def _accepted(rows: list[dict], concurrency: int, send_one: Callable[[dict], Awaitable[Outcome]]) -> int:
    """Send one push per row with `concurrency` in flight; how many the provider accepted."""
    pending = iter(rows)
    handed = 0

    async def runner() -> None:
        nonlocal handed
        for r in pending:
            handed += 1 if (await send_one(r)).ok else 0

    await asyncio.gather(*(runner() for _ in range(min(concurrency, len(rows)))))
    return handed


def native_replacement(n: dict[str, Any]) -> dict[str, Any]:
    """What an FCM or APNs device gets: the new version (same collapse key), or a data-only
    retraction, both carrying the notification id and the event, as Expo's do."""
    event = {"notificationId": str(n["id"]),
             "notificationEvent": "retracted" if n["status"] == "RETRACTED" else "updated"}
    if n["status"] == "RETRACTED":
        return {**n, "title": None, "body": None, "data": event, "priority": "HIGH", "presentation": None}
    return {**n, "data": {**(n.get("data") or {}), **event}}


async def _push_native(runtime: Runtime, n: dict, rows: list[dict],
                       creds: dict[int, credentials.AppProviderCredentials]) -> int:
    if not rows:
        return 0
    replacement = native_replacement(n)

    async def send_one(r: dict) -> Outcome:
        device = {"id": r["device"], "app": r["app"], "platform": r["platform"], "token": r["token"]}
        return await push_one(runtime, device, replacement, creds)

    return await _accepted(rows, NATIVE_CONCURRENCY, send_one)

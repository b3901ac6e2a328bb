"""updateNotification and retractNotification: correct or take back a notification already sent.

The row changes in one statement (guarded by its status, so an edit never revives a canceled or
retracted notification); then live subscribers get the new version and the devices it already
reached get a replacement push (api/engagement/replacements.py), kicked as a task after commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from strawberry import UNSET

from api import db
from api.delivery import pipeline
from api.errors import BadUserInput, Conflict
from api.notifications import events
from api.notifications.draft import Draft
from api.notifications.service import _loaded
from api.notifications.tables import Delivery, Notification
from api.runtime import Runtime

CLOSED = ("CANCELED", "RETRACTED")
# What retracting stops: deliveries not handed to a provider yet.
NOT_YET_SENT = ("PENDING", "HELD")


Spend = Callable[[], Awaitable[None]]


async def _free() -> None:
    return None


async def update_notification(
    runtime: Runtime, row: dict, channel_name: str, *, title: Any = UNSET, body: Any = UNSET, data: Any = UNSET,
    spend: Spend = _free,
) -> dict:
    """The new version (UNSET fields unchanged, null clears), validated as sendNotification
    validates; CONFLICT once canceled or retracted. `spend` (the app's send rate) is called once
    the edit is known to be valid: a refused edit pushes nothing and costs nothing."""
    if row["status"] in CLOSED:
        raise Conflict(f"a {row['status']} notification cannot be changed")
    changed = {k: v for k, v in (("title", title), ("body", body), ("data", data)) if v is not UNSET}
    if not changed:
        raise BadUserInput("pass title, body or data")
    merged = {**row, **changed}
    now = dt.datetime.now(dt.UTC)
    draft = Draft(title=merged["title"], body=merged["body"], data=merged["data"], priority=merged["priority"],
                  collapse_key=merged["collapse_key"], ttl=merged["ttl"], presentation=merged.get("presentation"),
                  channel={"name": channel_name} if row["channel"] is not None else None)
    draft.validate(now)
    draft.check_size()
    await spend()
    values = {getattr(Notification, k): v for k, v in changed.items()}
    values[Notification.edited_at] = now
    if row["status"] != "SCHEDULED":  # reached devices are owed the new version (_announce)
        values[Notification.replacements_due_at] = now
    updated = await Notification.update(values).where(
        (Notification.id == row["id"]) & Notification.status.not_in(list(CLOSED))
    ).returning(*Notification.all_columns())
    if not updated:
        raise Conflict("the notification was canceled or retracted meanwhile")
    new = _loaded(updated[0])
    if row["status"] == "SCHEDULED" and new["status"] != "SCHEDULED":
        # Dispatched between this request's read and its write: devices may have the old version.
        await Notification.update({Notification.replacements_due_at: now}).where(Notification.id == row["id"])
        new["replacements_due_at"] = now
    await _announce(runtime, new)
    return new


async def retract_notification(runtime: Runtime, row: dict, *, spend: Spend = _free) -> dict:
    """RETRACTED: out of every inbox, its unsent deliveries SKIPPED (reason Retracted), and the
    devices it reached told to remove it. Retracting twice returns the retracted notification."""
    if row["status"] == "RETRACTED":
        return row
    if row["status"] == "CANCELED":
        raise Conflict("a CANCELED notification cannot be retracted")
    await spend()
    now = dt.datetime.now(dt.UTC)
    async with db.transaction():
        # Owed whatever the status read before: a task that finds no device reached clears it.
        updated = await Notification.update(
            {Notification.status: "RETRACTED", Notification.completed_at: now, Notification.replacements_due_at: now}
        ).where(
            (Notification.id == row["id"]) & Notification.status.not_in(list(CLOSED))
        ).returning(*Notification.all_columns())
        if not updated:
            raise Conflict("the notification was canceled or retracted meanwhile")
        # A claim's stamp stays: a sender that has the row in flight records what it sent over
        # this (senders write only rows still under their claim), and then pushes the
        # retraction to that device itself (replacements.CatchUp): the task kicked below may
        # have listed the devices reached before that record.
        await Delivery.update(
            {Delivery.status: "SKIPPED", Delivery.reason: "Retracted", Delivery.updated_at: now,
             Delivery.next_attempt_at: None}
        ).where((Delivery.notification == row["id"]) & Delivery.status.is_in(list(NOT_YET_SENT)))
    new = _loaded(updated[0])
    await _announce(runtime, new)
    return new


async def _announce(runtime: Runtime, row: dict) -> None:
    """Live subscribers get the new version (same id); devices already reached get a push. A
    scheduled notification has reached nobody yet."""
    if row["status"] == "SCHEDULED":
        return
    await events.publish_notifications(runtime.live, [row])
    await runtime.queue.kick(pipeline.PUSH_REPLACEMENTS, row["id"])

"""Read state belongs to the person: markRead on one device marks the notification read for every
person of its app that the device belongs to, so it reads as read on all their devices, and the
pushes to their other devices that have not gone out yet are SKIPPED (ReadElsewhere). Badges are
the person's unread count, computed per send batch."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from api import db
from api.delivery import ledger, payload
from api.notifications import targets
from api.notifications.service import INBOX_HIDDEN
from api.notifications.tables import Notification, ReadMark
from api.people.tables import PersonDevice, PersonRead
from api.runtime import Runtime

READ_ELSEWHERE = "ReadElsewhere"
LONGEST_CHANNEL_NAME = "c" * 64  # what a Web Push payload names: sized for the longest there is


def _in(column: str, values: Sequence[int]) -> tuple[str, list]:
    return ledger.ids_in(column, list(values))


async def read_flags(keys: Sequence[tuple[int, int]]) -> list[bool]:
    """(device id, notification id) -> read by the device, or by a person it belongs to."""
    device_ids = list({d for d, _ in keys})
    notification_ids = list({n for _, n in keys})
    marked = {
        (r["device"], r["notification"])
        for r in await ReadMark.select(ReadMark.device, ReadMark.notification).where(
            ReadMark.device.is_in(device_ids) & ReadMark.notification.is_in(notification_ids)
        )
    }
    d_where, d_args = _in("pd.device", device_ids)
    n_where, n_args = _in("pr.notification", notification_ids)
    rows = await PersonRead.raw(
        "SELECT pd.device AS device, pr.notification AS notification FROM person_reads pr"
        f" JOIN person_devices pd ON pd.person = pr.person WHERE {d_where} AND {n_where}",
        *d_args, *n_args,
    )
    marked |= {(r["device"], r["notification"]) for r in rows}
    return [k in marked for k in keys]


async def mark_read(runtime: Runtime, device_id: int, notification_ids: Sequence[int]) -> int:
    """Marks the ones the device sees in its inbox; returns how many are now read."""
    if not notification_ids:
        return 0
    visible = await Notification.select(Notification.id, Notification.app).where(
        Notification.id.is_in(list(notification_ids))
        & targets.visible_to_device(device_id, None)
        & Notification.status.not_in(list(INBOX_HIDDEN))
    )
    if not visible:
        return 0
    now = dt.datetime.now(dt.UTC)
    persons = {
        r["app"]: r["person"]
        for r in await PersonDevice.select(PersonDevice.app, PersonDevice.person).where(
            PersonDevice.device == device_id
        )
    }
    person_marks = [(persons[n["app"]], n["id"]) for n in visible if n["app"] in persons]
    async with db.transaction():
        await ReadMark.insert(
            *[ReadMark(device=device_id, notification=n["id"], created_at=now) for n in visible]
        ).on_conflict(action="DO NOTHING")
        if person_marks:
            await PersonRead.insert(
                *[PersonRead(person=p, notification=n, created_at=now) for p, n in person_marks]
            ).on_conflict(action="DO NOTHING")
            skipped = await _skip_read_elsewhere(device_id, person_marks, now)
    if person_marks and skipped:
        await ledger.settled(runtime, skipped)
    return len(visible)


async def _skip_read_elsewhere(device_id: int, marks: list[tuple[int, int]], now: dt.datetime) -> list[dict]:
    """The person's deliveries of these notifications to their other devices that have not gone
    out yet (PENDING and not leased by a sender right now): SKIPPED, reason ReadElsewhere. One
    statement; a sender that claims one of them later finds it no longer PENDING."""
    p_where, p_args = _in("person", [p for p, _ in marks])
    n_where, n_args = _in("notification", [n for _, n in marks])
    timestamp = "CAST({} AS TIMESTAMPTZ)" if db.is_postgres(db.current_engine()) else "{}"
    rows = await PersonRead.raw(
        f"UPDATE deliveries SET status = 'SKIPPED', reason = {{}}, updated_at = {timestamp},"
        " next_attempt_at = NULL"
        f" WHERE {p_where} AND {n_where} AND device <> {{}} AND {ledger.status_is('PENDING')}"
        f" AND (lease_until IS NULL OR lease_until < {timestamp}) RETURNING *",
        READ_ELSEWHERE, now, *p_args, *n_args, device_id, now,
    )
    # persons x notifications is wider than the marks, but matches nothing more: a delivery's
    # person is of its notification's app, and the device has one person per app.
    return db.parse_timestamps(rows, "updated_at", "created_at", "sent_at", "next_attempt_at", "lease_until")


async def unread_counts(person_ids: Sequence[int]) -> list[int]:
    """person id -> notifications that reached (a delivery to) one of their devices and that
    they have not read. One statement for every person asked about."""
    if not person_ids:
        return []
    where, args = _in("d.person", person_ids)
    rows = await PersonRead.raw(
        "SELECT d.person AS person, COUNT(DISTINCT d.notification) AS n FROM deliveries d"
        f" WHERE {where} AND NOT EXISTS (SELECT 1 FROM person_reads pr"
        " WHERE pr.person = d.person AND pr.notification = d.notification) GROUP BY d.person",
        *args,
    )
    counts = {r["person"]: int(r["n"]) for r in rows}
    return [counts.get(p, 0) for p in person_ids]


async def notes_with_badges(deliveries: Sequence[dict], notes: dict[int, dict]) -> dict[int, dict]:
    """delivery id -> its notification as its recipient gets it: with their person's unread count
    as the badge (in the presentation, where every payload builder reads it) unless the send set
    one. One statement per batch; one variant per (notification, count), shared. A variant that
    would no longer fit a provider's limit (a notification accepted at the very edge) goes out
    without the badge: the send was accepted for what it says, not for its badge."""
    counts = await badges(deliveries)
    variants: dict[tuple[int, int], dict | None] = {}
    shown: dict[int, dict] = {}
    for d in deliveries:
        n = notes[d["notification"]]
        count = counts.get(d["id"])
        if count is None or "badge" in (n.get("presentation") or {}):
            shown[d["id"]] = n
            continue
        key = (n["id"], count)
        if key not in variants:
            variant = {**n, "presentation": {**(n.get("presentation") or {}), "badge": count}}
            variants[key] = None if payload.oversize(variant, LONGEST_CHANNEL_NAME) else variant
        shown[d["id"]] = variants[key] or n
    return shown


async def badges(deliveries: Sequence[dict]) -> dict[int, int]:
    """delivery id -> its person's unread count, for a send batch (one statement per batch)."""
    persons = list({d["person"] for d in deliveries if d.get("person") is not None})
    if not persons:
        return {}
    counts = dict(zip(persons, await unread_counts(persons), strict=True))
    return {d["id"]: counts[d["person"]] for d in deliveries if d.get("person") is not None}

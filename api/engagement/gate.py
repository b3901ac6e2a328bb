"""The engagement gate: before a batch of claimed deliveries goes to a provider, the preferences
of the persons (or devices) they are for decide which may go now.

- A muted channel's delivery is SKIPPED (reason Muted); the notification stays in the inbox, unread.
- A non-critical delivery due inside the quiet hours is HELD (reason QuietHours) with
  next_attempt_at at the window's end; release_due (run by the sweep) makes it PENDING again
  then, and the sender's usual checks expire it (FAILED Expired) if its TTL ran out meanwhile;
  one that the person read elsewhere meanwhile is SKIPPED (ReadElsewhere) instead.

Critical notifications (Notification.critical or Channel.critical) bypass quiet hours, not
mutes: muting is the person's explicit choice. Everything is done per batch: one query for the
preferences, one for the channels, one statement per outcome (and per distinct window end).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from api import db
from api.channels.tables import Channel
from api.delivery import ledger
from api.engagement import preferences
from api.notifications.tables import Delivery
from api.runtime import Runtime

MUTED = "Muted"
QUIET_HOURS = "QuietHours"
READ_ELSEWHERE = "ReadElsewhere"


async def screen(runtime: Runtime, ready: list[dict], notes: dict[int, dict], now: dt.datetime) -> list[dict]:
    """Of claimed deliveries, those that may go out now; the others are written HELD or SKIPPED."""
    keys = {(notes[d["notification"]]["app"], d.get("person"), d["device"])
            for d in ready if notes[d["notification"]]["app"] is not None}
    found = await preferences.for_batch(keys) if keys else {}
    if not found:
        return ready
    critical_channels = {r["id"] for r in await Channel.select(Channel.id).where(
        Channel.id.is_in(list({n["channel"] for n in notes.values() if n["channel"] is not None}) or [0])
        & (Channel.critical == True)  # noqa: E712
    )}
    go, muted, held = [], [], {}
    for d in ready:
        n = notes[d["notification"]]
        settings = preferences.applying(found, n["app"], d.get("person"), d["device"]) if n["app"] else None
        if settings is None:
            go.append(d)
        elif n["channel"] in settings.muted:
            muted.append(d["id"])
        elif settings.quiet and not (n.get("critical") or n["channel"] in critical_channels) and (
            until := settings.quiet.ends_at(now)
        ):
            held.setdefault(until, []).append(d["id"])
        else:
            go.append(d)
    written = await _settle(muted, "SKIPPED", MUTED, None, now)
    for until, ids in held.items():
        written += await _settle(ids, "HELD", QUIET_HOURS, until, now)
    if written:
        await ledger.settled(runtime, written)
    return go


async def _settle(ids: Sequence[int], status: str, reason: str, until: dt.datetime | None,
                  now: dt.datetime) -> list[dict]:
    if not ids:
        return []
    where, args = ledger.ids_in("id", ids)
    stamp = "CAST({} AS TIMESTAMPTZ)" if db.is_postgres(db.current_engine()) else "{}"
    return await Delivery.raw(
        f"UPDATE deliveries SET status = {{}}, reason = {{}}, next_attempt_at = {stamp}, lease_until = NULL,"
        f" updated_at = {stamp} WHERE {where} AND status = 'PENDING' RETURNING *",
        status, reason, until, now, *args,
    )


async def release_due(runtime: Runtime, now: dt.datetime | None = None) -> int:
    """HELD (QuietHours) deliveries whose window has ended: SKIPPED when the person read the
    notification elsewhere meanwhile, else PENDING and kicked (the sender expires a stale one)."""
    from api.delivery.fanout import kick_sends

    now = now or dt.datetime.now(dt.UTC)
    stamp = "CAST({} AS TIMESTAMPTZ)" if db.is_postgres(db.current_engine()) else "{}"
    due = f"status = 'HELD' AND reason = '{QUIET_HOURS}' AND next_attempt_at <= {stamp}"
    read = ("EXISTS (SELECT 1 FROM person_reads r WHERE r.person = deliveries.person"
            " AND r.notification = deliveries.notification)")
    skipped = await Delivery.raw(
        f"UPDATE deliveries SET status = 'SKIPPED', reason = '{READ_ELSEWHERE}', next_attempt_at = NULL,"
        f" updated_at = {stamp} WHERE {due} AND {read} RETURNING *",
        now, now,
    )
    released = await Delivery.raw(
        f"UPDATE deliveries SET status = 'PENDING', reason = NULL, next_attempt_at = {stamp}, updated_at = {stamp}"
        f" WHERE {due} RETURNING *",
        now, now, now,
    )
    if skipped or released:
        await ledger.settled(runtime, skipped + released)
    if released:
        await kick_sends(runtime, [{"id": r["id"], "platform": r["platform"]} for r in released])
    return len(released)

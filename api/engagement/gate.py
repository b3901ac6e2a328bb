"""The engagement gate: before a batch of claimed deliveries goes to a provider, the preferences
of the persons (or devices) they are for decide which may go now.

- A muted channel's delivery is SKIPPED (reason Muted); the notification stays in the inbox, unread.
- A non-critical delivery due inside the quiet hours is HELD (reason QuietHours) with
  next_attempt_at at the window's end; release_due (run by the sweep) makes it PENDING again
  then, and the sender's usual checks expire it (FAILED Expired) if its TTL ran out meanwhile;
  one that the person read elsewhere meanwhile is SKIPPED (ReadElsewhere) instead.

- A delivery of a digest channel within its window after an earlier push to the device is HELD
  (reason Digest); one over the app's hourly cap per person is HELD (reason Capped). Both go out
  as one digest push (api/engagement/digests.py, api/engagement/caps.py).

Critical notifications (Notification.critical: an app's own send to a Channel.critical channel
is one) bypass quiet hours, digests and caps, not mutes: muting is the person's explicit choice.
Everything is done per batch: one query each for the channels, the preferences, recent pushes
(digest channels only) and pushes of the last hour (capped apps only), one statement per outcome
(and per distinct window end).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from api import db
from api.delivery import ledger
from api.engagement import caps, digests, preferences
from api.notifications.tables import Delivery
from api.runtime import Runtime

MUTED = "Muted"
QUIET_HOURS = "QuietHours"
READ_ELSEWHERE = "ReadElsewhere"


class _Facts(NamedTuple):
    """What the gate needs of a notification, worked out once per batch."""

    app: int | None
    channel: int | None
    critical: bool
    digest_window: int | None


async def screen(runtime: Runtime, ready: list[dict], notes: dict[int, dict], now: dt.datetime) -> list[dict]:
    """Of claimed deliveries, those that may go out now; the others are written HELD or SKIPPED.
    Digest carriers get what they show instead of their notification (`shown`)."""
    if not ready:
        return ready
    channels = await _channels(notes)
    digests.share_collapse_ids(notes, channels)
    # Per notification once, not per delivery: its app, channel, whether it is critical (set at
    # send time, api/notifications/sending.py: the app's own sends to a critical channel are, an
    # anonymous send to it is not), and its channel's digest window.
    of = {nid: _Facts(n["app"], n["channel"], bool(n.get("critical")),
                      (channels.get(n["channel"]) or {}).get("digest_window"))
          for nid, n in notes.items()}
    # Whose preferences: the persons, and the devices of no person (sets, not a tuple per delivery).
    apps = {f.app for f in of.values() if f.app is not None}
    owned = [d for d in ready if of[d["notification"]].app is not None]
    persons = {d["person"] for d in owned if d.get("person") is not None}
    devices = {d["device"] for d in owned if d.get("person") is None}
    found = await preferences.for_owners(apps, persons, devices) if owned else {}
    go, muted, held = [], [], {}
    window_ends: dict = {}  # per distinct quiet hours, not per delivery: a zone conversion each
    for d in ready:
        app, channel, critical, _ = of[d["notification"]]
        settings = preferences.applying(found, app, d.get("person"), d["device"]) if found and app else None
        if settings is None:
            go.append(d)
        elif channel in settings.muted:
            muted.append(d["id"])
        elif settings.quiet and not critical and (until := _window_end(window_ends, settings.quiet, now)):
            held.setdefault((QUIET_HOURS, until), []).append(d["id"])
        else:
            go.append(d)
    # Critical notifications and digest carriers are never held back by digests or caps.
    open_to_hold = [d for d in go if not of[d["notification"]].critical and not d.get("digest_count")]
    digest_holds = await digests.holds([d for d in open_to_hold if of[d["notification"]].digest_window],
                                       notes, channels, now)
    capped = await caps.holds([d for d in open_to_hold
                               if of[d["notification"]].app is not None and d["id"] not in digest_holds],
                              notes, runtime.settings.person_hourly_cap, now)
    for reason, holds in ((digests.HOLD, digest_holds), (caps.HOLD, capped)):
        for delivery_id, until in holds.items():
            held.setdefault((reason, until), []).append(delivery_id)
    if digest_holds or capped:
        go = [d for d in go if d["id"] not in digest_holds and d["id"] not in capped]
    for d in go:
        if d.get("digest_count"):  # a digest carrier shows "5 new in #chat" (digests.shown)
            n = notes[d["notification"]]
            d["shown"] = digests.shown(d, n, (channels.get(n["channel"]) or {}).get("name", ""))
    written = await _settle(muted, "SKIPPED", MUTED, None, now)
    for (reason, until), ids in held.items():
        written += await _settle(ids, "HELD", reason, until, now)
    if written:
        await ledger.settled(runtime, written)
    return go


def _window_end(known: dict, quiet, now: dt.datetime) -> dt.datetime | None:
    # By identity: recipients with the same settings share one object (preferences.for_owners),
    # all alive for the batch; hashing the dataclass cost more than the rest of the check.
    key = id(quiet)
    if key not in known:
        known[key] = quiet.ends_at(now)
    return known[key]


def with_digests(ready: list[dict], shown: dict[int, dict]) -> dict[int, dict]:
    """delivery id -> what its push shows: a digest carrier's text (screen set it) over its
    notification as the recipient gets it (badge included)."""
    for d in ready:
        if d.get("shown"):
            shown[d["id"]] = {**shown[d["id"]], "title": d["shown"]["title"], "body": d["shown"]["body"],
                              "digest_count": d["digest_count"]}
    return shown


async def _channels(notes: dict[int, dict]) -> dict[int, dict]:
    ids = list({n["channel"] for n in notes.values() if n["channel"] is not None})
    if not ids:
        return {}
    where, args = ledger.ids_in("id", ids)
    rows = await ledger.raw(f"SELECT id, name, critical, digest_window FROM channels WHERE {where}", *args)
    return {r["id"]: {**r, "critical": bool(r["critical"])} for r in rows}


async def _settle(ids: Sequence[int], status: str, reason: str, until: dt.datetime | None,
                  now: dt.datetime) -> list[dict]:
    if not ids:
        return []
    where, args = ledger.ids_in("id", ids)
    stamp = "CAST({} AS TIMESTAMPTZ)" if db.is_postgres(db.current_engine()) else "{}"
    return await Delivery.raw(
        f"UPDATE deliveries SET status = {{}}, reason = {{}}, next_attempt_at = {stamp}, lease_until = NULL,"
        f" updated_at = {stamp} WHERE {where} AND {ledger.status_is('PENDING')} RETURNING *",
        status, reason, until, now, *args,
    )


async def release_due(runtime: Runtime, now: dt.datetime | None = None) -> int:
    """HELD (QuietHours) deliveries whose window has ended: SKIPPED when the person read the
    notification elsewhere meanwhile, else PENDING and kicked (the sender expires a stale one).
    Digests whose window has ended: their carriers PENDING and kicked, the rest SKIPPED Digested."""
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
    digested, carriers = await digests.release_due(now)
    released += carriers
    if skipped or released or digested:
        await ledger.settled(runtime, skipped + released + [r for r in digested if r["status"] == "SKIPPED"])
    if released:
        await kick_sends(runtime, [{"id": r["id"], "platform": r["platform"]} for r in released])
    return len(released)

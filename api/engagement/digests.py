"""Digests: a channel with a digest window (seconds) sends the first notification to a device at
once; further ones to that device within the window are HELD (reason Digest) and go out at its
end as one push: "5 new in #chat" with the latest title and body. Every push of such a channel
carries one collapse id per channel (unless the notification has its own), so the digest replaces
the first push on the device. The merged deliveries are SKIPPED (reason Digested) and point at the
delivery that carried them (digest_of); the inbox keeps every notification, unread.

Per batch: one query finds the devices' recent pushes of the batch's digest channels (none when
no other notification of the channel can have pushed within the window: api/engagement/recent.py);
at release,
one query reads what is due, one statement writes the carriers (per digest size) and one the
merged rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from api import db
from api.delivery import ledger
from api.engagement.recent import active_since
from api.notifications.tables import Delivery

HOLD = "Digest"
CAPPED = "Capped"  # api/engagement/caps.py: released the same way
MERGED = "Digested"
RELEASE_PAGE = 5000


def collapse_key(channel_id: int) -> str:
    return f"digest-{channel_id}"


def share_collapse_ids(notes: dict[int, dict], channels: dict[int, dict]) -> None:
    """Pushes of a digest channel share its collapse id (set on this batch's copy of each note)."""
    for n in notes.values():
        channel = channels.get(n["channel"])
        if channel and channel["digest_window"] and n["collapse_key"] is None:
            n["collapse_key"] = collapse_key(n["channel"])


def _stamp() -> str:
    return "CAST({} AS TIMESTAMPTZ)" if db.is_postgres(db.current_engine()) else "{}"


async def _recent_pushes(candidates: list[dict], channels: list[int], since: dt.datetime) -> list[dict]:
    """Per (device, digest channel): its last push since `since` and the end of a digest window
    open for it, leaving out the candidates themselves. One pass over the devices' deliveries
    whatever the plan (an index scan, or one scan of the table when the statistics are stale after
    a burst: never a scan per device, which a per-device LATERAL became then, 0.7 s a batch)."""
    device_where, device_args = ledger.ids_in("d.device", sorted({d["device"] for d in candidates}))
    channel_where, channel_args = ledger.ids_in("n.channel", channels)
    own = [d["id"] for d in candidates]
    own_where, own_args = ledger.ids_among("d.id", own)  # through a hash of the batch's ids
    own_where = f"NOT ({own_where})"
    return await ledger.raw(
        "SELECT d.device AS device, n.channel AS channel,"
        " MAX(CASE WHEN d.status <> 'HELD' THEN COALESCE(d.sent_at, d.created_at) END) AS last_push,"
        " MAX(CASE WHEN d.status = 'HELD' THEN d.next_attempt_at END) AS open_until"
        f" FROM deliveries d JOIN notifications n ON n.id = d.notification WHERE {device_where} AND {channel_where}"
        f" AND {own_where} AND ((d.status IN ('PENDING', 'SENT', 'DELIVERED')"
        f" AND COALESCE(d.sent_at, d.created_at) >= {_stamp()}) OR (d.status = 'HELD' AND d.reason = '{HOLD}'))"
        " GROUP BY d.device, n.channel",
        *device_args, *channel_args, *own_args, since,
    )


async def holds(candidates: list[dict], notes: dict[int, dict], channels: dict[int, dict],
                now: dt.datetime) -> dict[int, dt.datetime]:
    """delivery id -> until when it waits, for deliveries of digest channels (non-critical, in
    `candidates`) that are not the first to their device within the window."""
    if not candidates:
        return {}
    longest = max(channels[notes[d["notification"]]["channel"]]["digest_window"] for d in candidates)
    since = now - dt.timedelta(seconds=longest)
    own = sorted({d["notification"] for d in candidates})  # a device has one delivery of each
    channel_ids = [c for c in sorted({notes[n]["channel"] for n in own})
                   if await active_since("channel", c, since, limit=1, leave_out=own)]
    # No other notification of the channel can have pushed within the window (the common case:
    # a quiet channel): the first to each device goes, the rest of the batch as below.
    rows = await _recent_pushes(candidates, channel_ids, since) if channel_ids else []
    if not rows and len({(d["device"], notes[d["notification"]]["channel"]) for d in candidates}) == len(candidates):
        return {}  # nothing pushed within the window, and no device gets two of the batch's: all go
    db.parse_timestamps(rows, "last_push", "open_until")
    recent = {(r["device"], r["channel"]): r for r in rows}
    windows = {n: dt.timedelta(seconds=channels[notes[n]["channel"]]["digest_window"]) for n in own}
    held: dict[int, dt.datetime] = {}
    for d in sorted(candidates, key=lambda d: d["notification"]):
        channel = notes[d["notification"]]["channel"]
        window = windows[d["notification"]]
        seen = recent.get((d["device"], channel))
        if seen and seen["open_until"]:
            held[d["id"]] = seen["open_until"]
        elif seen and seen["last_push"] and seen["last_push"] + window > now:
            held[d["id"]] = seen["open_until"] = seen["last_push"] + window
        else:  # the first within the window: it goes, and opens the window for the rest of the batch
            recent[(d["device"], channel)] = {"last_push": now, "open_until": None}
    return held


async def release_due(now: dt.datetime) -> tuple[list[dict], list[dict]]:
    """Digests whose window has ended (and capped pushes whose hour has freed up): per (device,
    channel) the latest delivery carries the
    digest (PENDING again, digest_count set), the others are SKIPPED Digested pointing at it.
    Returns (rows written, carriers to kick)."""
    due = await Delivery.raw(
        "SELECT d.id AS id, d.device AS device, d.notification AS notification, n.channel AS channel"
        " FROM deliveries d JOIN notifications n ON n.id = d.notification"
        f" WHERE d.status = 'HELD' AND d.reason IN ('{HOLD}', '{CAPPED}') AND d.next_attempt_at <= {_stamp()}"
        f" ORDER BY d.notification LIMIT {RELEASE_PAGE}",
        now,
    )
    groups: dict[tuple[int, int], list[dict]] = {}
    for r in due:
        groups.setdefault((r["device"], r["channel"]), []).append(r)
    by_size: dict[int, list[int]] = {}
    merged: list[tuple[int, int]] = []
    for rows in groups.values():
        carrier = rows[-1]  # the latest notification
        by_size.setdefault(len(rows), []).append(carrier["id"])
        merged += [(r["id"], carrier["id"]) for r in rows[:-1]]
    written: list[dict] = []
    carriers: list[dict] = []
    for size, ids in by_size.items():
        where, args = ledger.ids_in("id", ids)
        rows = await Delivery.raw(
            f"UPDATE deliveries SET status = 'PENDING', reason = NULL, digest_count = {{}},"
            f" next_attempt_at = {_stamp()}, updated_at = {_stamp()} WHERE {where} AND {ledger.status_is('HELD')}"
            " RETURNING *",
            size, now, now, *args,
        )
        written += rows
        carriers += rows
    for start in range(0, len(merged), 1000):
        written += await _merge(merged[start : start + 1000], now)
    return written, carriers


async def _merge(pairs: list[tuple[int, int]], now: dt.datetime) -> list[dict]:
    if not pairs:
        return []
    values = ", ".join("(CAST({} AS BIGINT), CAST({} AS BIGINT))" for _ in pairs)
    args = [x for pair in pairs for x in pair]
    return await Delivery.raw(
        f"WITH v(id, carrier) AS (VALUES {values}) UPDATE deliveries SET status = 'SKIPPED',"
        f" reason = '{MERGED}', digest_of = v.carrier, next_attempt_at = NULL, updated_at = {_stamp()}"
        f" FROM v WHERE deliveries.id = v.id AND {ledger.status_is('HELD', 'deliveries.status')} RETURNING "
        + ", ".join(f"deliveries.{c._meta.db_column_name}" for c in Delivery._meta.columns),
        *args, now,
    )


def shown(delivery: dict, n: dict[str, Any], channel_name: str) -> dict[str, Any] | None:
    """What a digest carrier shows instead of its own notification: "5 new in #chat", then the
    latest title and body (its own). None for an ordinary delivery."""
    count = delivery.get("digest_count") or 0
    if count < 2:
        return None
    latest = ": ".join(part for part in (n["title"], n["body"]) if part)
    where = f" in #{channel_name}" if channel_name else ""
    return {**n, "title": f"{count} new{where}", "body": latest or None}

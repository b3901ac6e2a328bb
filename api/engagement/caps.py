"""Caps: at most N pushes per person (or per device of no person) per hour, per app. A push over
the cap is HELD (reason Capped) until the oldest push of the last hour is an hour old, and then
goes out the way a digest does (api/engagement/digests.py): the latest carries "N new in #chat",
the rest are SKIPPED Digested. Critical notifications and digest carriers are never capped.

A person's push counts once however many of their devices it reached. One query per batch reads
the recipients' pushes of the last hour (none when the app has too few notifications in the hour to
reach its cap: api/engagement/recent.py); the batch's own pushes count as they are let through.
"""

from __future__ import annotations

import datetime as dt

from api import db
from api.apps.tables import App
from api.delivery import ledger
from api.engagement.recent import active_since
from api.errors import BadUserInput

HOLD = "Capped"
HOUR = dt.timedelta(hours=1)
MAX_CAP = 10_000


def validate(cap: int | None) -> int | None:
    if cap is not None and not 1 <= cap <= MAX_CAP:
        raise BadUserInput(f"cap must be between 1 and {MAX_CAP} pushes per hour (null: the default)")
    return cap


async def set_cap(app_id: int, cap: int | None) -> dict:
    rows = await App.update({App.person_hourly_cap: validate(cap)}).where(App.id == app_id).returning(
        *App.all_columns()
    )
    return rows[0]


def _recipient(app: int, d: dict) -> tuple[int, str, int]:
    return (app, "person", d["person"]) if d.get("person") is not None else (app, "device", d["device"])


async def holds(candidates: list[dict], notes: dict[int, dict], default_cap: int | None,
                now: dt.datetime) -> dict[int, dt.datetime]:
    """delivery id -> until when it waits, for deliveries over their recipient's hourly cap."""
    if not candidates:
        return {}
    apps = sorted({notes[d["notification"]]["app"] for d in candidates})
    app_where, app_args = ledger.ids_in("id", apps)
    caps = {r["id"]: r["person_hourly_cap"] or default_cap
            for r in await ledger.raw(f"SELECT id, person_hourly_cap FROM apps WHERE {app_where}", *app_args)}
    # A delivery is held when its recipient's pushes of the hour (other notifications than the
    # batch's: one already sent to another of their devices is the same push) and those let
    # through before it in the batch reach the cap. The first are at most the app's other
    # notifications that may have pushed in the hour, the second at most the batch's other
    # notifications: an app for which these add up to no more than its cap holds nothing, and
    # reads no deliveries.
    own = sorted({d["notification"] for d in candidates})
    for app in apps:
        ours = sum(1 for n in own if notes[n]["app"] == app)
        if caps.get(app) and await active_since(
            "app", app, now - HOUR, limit=caps[app], leave_out=own
        ) + ours <= caps[app]:
            caps[app] = None
    candidates = [d for d in candidates if caps.get(notes[d["notification"]]["app"])]
    if not candidates:
        return {}
    persons = sorted({d["person"] for d in candidates if d.get("person") is not None})
    devices = sorted({d["device"] for d in candidates if d.get("person") is None})
    rows = await _pushes_of_the_hour(apps, persons, devices, own, now - HOUR,
                                     most=max(caps[app] for app in apps if caps.get(app)))
    if not rows and len(own) <= min(caps[app] for app in apps if caps.get(app)):
        return {}  # no earlier pushes, and the batch alone cannot reach a cap: nothing to count
    db.parse_timestamps(rows, "oldest")
    sent = {((r["app"], "person", r["person"]) if r["person"] is not None else (r["app"], "device", r["device"])):
            (int(r["pushes"]), r["oldest"]) for r in rows}
    counted: dict[tuple, set[int]] = {}
    held: dict[int, dt.datetime] = {}
    for d in sorted(candidates, key=lambda d: d["notification"]):
        app = notes[d["notification"]]["app"]
        key = _recipient(app, d)
        pushes, oldest = sent.get(key, (0, None))
        letting = counted.setdefault(key, set())
        if d["notification"] in letting:
            continue  # the same push to another of the person's devices: already counted
        if pushes + len(letting) >= caps[app]:
            held[d["id"]] = (oldest or now) + HOUR
        else:
            letting.add(d["notification"])
    return held


async def _pushes_of_the_hour(apps: list[int], persons: list[int], devices: list[int], own: list[int],
                              since: dt.datetime, *, most: int) -> list[dict]:
    """Per recipient (a person, or a device of no person) of these apps: its notifications pushed
    since `since` (but `own`) and the oldest push. A person's are those to the devices linked to
    them now: each read through (device, sent_at), so the work follows the hour's pushes, never
    the person's history (their deliveries over the retention period). On PostgreSQL at most the
    `most` oldest pushes (the largest cap in play) per device of a person: a device holds one
    delivery per notification, so a person over the cap is still seen to be, with their oldest
    push, and a chatty one costs no more than the cap."""
    if db.is_postgres(db.current_engine()):
        # Probes, one per device, through (device, sent_at): the work follows the batch's
        # recipients and their pushes of the hour, never the table (a join let the planner read
        # every delivery whenever the table looked small, 5 ms a batch at 13,000 rows; the LIMIT
        # keeps each probe a probe). Index scans, not bitmap scans (db.fetch_probing), in sent_at
        # order, so that a person's probes stop at the cap. A person is of one app (person_devices.app),
        # so their pushes are that app's: counted straight from the probes, the batch's own left
        # out in them (10.1 -> 5.7 ms for 500 persons of two devices, against going through the
        # notifications). A device of no person may hold other apps' pushes: its rows go through
        # their notifications' apps, each read once per notification, and are read whole.
        recent = "d.sent_at >= $2 AND d.status IN ('SENT', 'DELIVERED') ORDER BY d.sent_at"
        return await db.fetch_probing(
            "WITH x AS MATERIALIZED ("
            " SELECT v.id AS device, d.notification, d.sent_at FROM unnest($3::bigint[]) v(id)"
            " CROSS JOIN LATERAL (SELECT d.notification, d.sent_at FROM deliveries d WHERE d.device = v.id"
            f" AND d.person IS NULL AND {recent} OFFSET 0) d"
            "), n AS (SELECT id, app FROM notifications WHERE id = ANY(ARRAY(SELECT DISTINCT notification FROM x))"
            " AND app = ANY($1::bigint[]))"
            " SELECT n.app AS app, NULL::bigint AS person, x.device AS device,"
            " COUNT(DISTINCT x.notification) AS pushes, MIN(x.sent_at) AS oldest"
            " FROM x JOIN n ON n.id = x.notification WHERE x.notification <> ALL($5::bigint[])"
            " GROUP BY n.app, x.device"
            " UNION ALL SELECT pd.app, pd.person, NULL::bigint,"
            " COUNT(DISTINCT d.notification), MIN(d.sent_at) FROM person_devices pd"
            " CROSS JOIN LATERAL (SELECT d.notification, d.sent_at FROM deliveries d WHERE d.device = pd.device"
            f" AND d.person = pd.person AND d.notification <> ALL($5::bigint[]) AND {recent} LIMIT $6) d"
            " WHERE pd.person = ANY($4::bigint[]) AND pd.app = ANY($1::bigint[]) GROUP BY pd.app, pd.person",
            apps, since, devices, persons, own, most,
        )
    app_where, app_args = ledger.ids_in("n.app", apps)
    person_where, person_args = ledger.ids_in("d.person", persons or [0])
    device_where, device_args = ledger.ids_in("d.device", devices or [0])
    own_where, own_args = ledger.ids_in("d.notification", own)
    linked = "EXISTS (SELECT 1 FROM person_devices pd WHERE pd.person = d.person AND pd.device = d.device)"
    return await ledger.raw(
        "SELECT n.app AS app, d.person AS person, CASE WHEN d.person IS NULL THEN d.device END AS device,"
        " COUNT(DISTINCT d.notification) AS pushes, MIN(d.sent_at) AS oldest"
        f" FROM deliveries d JOIN notifications n ON n.id = d.notification WHERE {app_where}"
        " AND d.status IN ('SENT', 'DELIVERED') AND d.sent_at >= {}"
        f" AND (({person_where} AND {linked}) OR (d.person IS NULL AND {device_where})) AND NOT ({own_where})"
        " GROUP BY n.app, d.person, CASE WHEN d.person IS NULL THEN d.device END",
        *app_args, since, *person_args, *device_args, *own_args,
    )

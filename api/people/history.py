"""Person.notifications: the notifications that reached a person, newest first, with their read
state and their deliveries to the person's devices.

"Reached" is what exportPerson and the unread count mean by it: a delivery recorded for the person
(a channel send to one of their devices, or a direct send), or a direct send naming them (seen
even before its deliveries exist: scheduled, or still fanning out). Erasing the person unlinks
both, so a person of the same identifier created later starts with none.

Every read is bounded: a page is two index probes per person that stop after `first` + 1 ids, and
a page's deliveries are at most `first` per notification, whatever the person's history."""

from __future__ import annotations

from collections.abc import Sequence

from api import db
from api.delivery.ledger import ids_in
from api.notifications import service as notifications
from api.people.tables import PersonRead

NO_CURSOR = 2**63 - 1  # above every id: the first page


async def _page_ids(person_id: int, size: int, before: int) -> list[int]:
    """The ids of the person's notifications below `before`, newest first, at most size + 1. Each
    branch stops at size + 1 ids on its own index (deliveries (person, notification),
    notification_persons (person)) before the two are merged."""
    rows = await PersonRead.raw(
        "SELECT id FROM (SELECT DISTINCT notification AS id FROM deliveries WHERE person = {}"
        " AND notification < {} ORDER BY notification DESC LIMIT {}) AS delivered"
        " UNION SELECT id FROM (SELECT notification AS id FROM notification_persons WHERE person = {}"
        " AND notification < {} ORDER BY notification DESC LIMIT {}) AS named"
        " ORDER BY id DESC LIMIT {}",
        person_id, before, size + 1, person_id, before, size + 1, size + 1,
    )
    return [r["id"] for r in rows]


async def pages(keys: Sequence[tuple[int, int, int, int | None]]) -> list[list[dict]]:
    """(person id, app id, size, before id) -> the notification rows of that page, newest first,
    at most size + 1 (the extra one tells there is a next page). The app check is belt and braces:
    a person's deliveries and direct sends are of their app's notifications."""
    ids = {key: await _page_ids(key[0], key[2], key[3] if key[3] is not None else NO_CURSOR) for key in keys}
    wanted = sorted({i for found in ids.values() for i in found})
    rows = {r["id"]: r for r in await notifications.get_many(wanted) if r is not None} if wanted else {}
    return [[rows[i] for i in ids[key] if i in rows and rows[i]["app"] == key[1]] for key in keys]


async def read_flags(keys: Sequence[tuple[int, int]]) -> list[bool]:
    """(person id, notification id) -> the person read it (on any of their devices)."""
    persons, notes = sorted({p for p, _ in keys}), sorted({n for _, n in keys})
    p_where, p_args = ids_in("person", persons)
    n_where, n_args = ids_in("notification", notes)
    rows = await PersonRead.raw(
        f"SELECT person, notification FROM person_reads WHERE {p_where} AND {n_where}", *p_args, *n_args
    )
    read = {(r["person"], r["notification"]) for r in rows}
    return [k in read for k in keys]


async def delivery_counts(keys: Sequence[tuple[int, int]]) -> list[dict[str, int]]:
    """(person id, notification id) -> the person's deliveries of it by status, and OPENED."""
    persons, notes = sorted({p for p, _ in keys}), sorted({n for _, n in keys})
    p_where, p_args = ids_in("person", persons)
    n_where, n_args = ids_in("notification", notes)
    rows = await PersonRead.raw(
        "SELECT person, notification, status, COUNT(*) AS n, COUNT(opened_at) AS opened FROM deliveries"
        f" WHERE {p_where} AND {n_where} GROUP BY person, notification, status", *p_args, *n_args,
    )
    counts: dict[tuple[int, int], dict[str, int]] = {}
    for r in rows:
        found = counts.setdefault((r["person"], r["notification"]), {})
        found[r["status"]] = int(r["n"])
        found["OPENED"] = found.get("OPENED", 0) + int(r["opened"])
    return [counts.get(k, {}) for k in keys]


async def deliveries(keys: Sequence[tuple[int, int, int]]) -> list[list[dict]]:
    """(person id, notification id, n) -> the person's first n deliveries of it (one per device),
    oldest first. One statement, at most n rows per (person, notification)."""
    persons, notes = sorted({p for p, _, _ in keys}), sorted({n for _, n, _ in keys})
    most = max(n for _, _, n in keys)
    p_where, p_args = ids_in("d.person", persons)
    n_where, n_args = ids_in("d.notification", notes)
    rows = await PersonRead.raw(
        "SELECT * FROM (SELECT d.*, ROW_NUMBER() OVER (PARTITION BY d.person, d.notification ORDER BY d.id)"
        f" AS nth FROM deliveries d WHERE {p_where} AND {n_where}) AS mine WHERE nth <= {{}} ORDER BY id",
        *p_args, *n_args, most,
    )
    found: dict[tuple[int, int], list[dict]] = {}
    for r in db.parse_timestamps(rows, "updated_at", "created_at", "sent_at", "next_attempt_at", "lease_until",
                                 "opened_at"):
        found.setdefault((r["person"], r["notification"]), []).append(r)
    return [[r for r in found.get((p, n), []) if r["nth"] <= size] for p, n, size in keys]

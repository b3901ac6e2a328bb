"""exportPerson and erasePerson: everything Booper holds about one person of an app, as one JSON
document; and all of it gone in one transaction.

Erasing removes the person, their device links, their read marks (the person's, and their
devices' on the app's notifications), the grants the app gave their devices (with the
subscriptions to the private channels those grants opened), their access codes not yet redeemed,
and the identifier wherever else it was written (redeemed access codes, webhook event payloads).
Deliveries stay in the app's ledger, unlinked from the person. The devices themselves stay: a
device is its owner's, and erases itself with unregisterDevice. The webhook event person.erased
is the one row that names the identifier afterwards: it tells the app's server whom to forget.
"""

from __future__ import annotations

from typing import Any

import orjson

from api import db
from api.delivery.ledger import ids_in
from api.devices.keys import token_hint
from api.live.guard import access_changed
from api.notifications.tables import ReadMark
from api.people import service
from api.people.tables import NotificationPerson, Person, PersonDevice, PersonRead
from api.runtime import Runtime
from api.webhooks import service as webhook_service


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


# Each list of an export holds at most this many entries, the newest (deliveries: of the kept
# notifications, at most DELIVERY_LIMIT in all): one call reads and builds a bounded document
# however long the person's history, and says `truncated` when it is not all there is.
EXPORT_LIMIT = 1000
DELIVERY_LIMIT = 10_000


class _Cut:
    """Rows read with limit + 1: the extra one only tells that a list was cut."""

    def __init__(self) -> None:
        self.lists: set[str] = set()

    def newest(self, name: str, rows: list, limit: int) -> list:
        """Rows read newest first, kept up to the limit and given back oldest first."""
        if len(rows) > limit:
            self.lists.add(name)
            rows = rows[:limit]
        return rows[::-1]


async def export(app_id: int, identifier: str) -> dict[str, Any]:
    person = await service.require(app_id, identifier)
    pid = person["id"]
    cut = _Cut()
    limit = EXPORT_LIMIT
    devices = cut.newest("devices", await service.devices_of_person(pid, limit + 1), limit)
    device_ids = [d["id"] for d in devices] or [0]
    d_where, d_args = ids_in("device", device_ids)
    channels = cut.newest("channels", await Person.raw(
        "SELECT s.device AS device, c.id AS id, c.name AS name, c.visibility AS visibility, s.created_at AS since"
        f" FROM channel_subscriptions s JOIN channels c ON c.id = s.channel WHERE s.{d_where} AND c.app = {{}}"
        " ORDER BY c.id DESC LIMIT {}", *d_args, app_id, limit + 1,
    ), limit)
    grants = cut.newest("grants", await Person.raw(
        "SELECT g.device AS device, c.id AS channel, c.name AS name, g.created_at AS since"
        f" FROM device_access_grants g JOIN channels c ON c.id = g.channel WHERE g.{d_where} AND g.app = {{}}"
        " ORDER BY g.id DESC LIMIT {}", *d_args, app_id, limit + 1,
    ), limit)
    notifications = cut.newest("notifications", await Person.raw(
        "SELECT n.id AS id, n.channel AS channel, n.title AS title, n.body AS body, n.data AS data,"
        " n.status AS status, n.created_at AS created_at FROM notifications n WHERE n.app = {}"
        " AND (n.id IN (SELECT notification FROM deliveries WHERE person = {})"
        " OR n.id IN (SELECT notification FROM notification_persons WHERE person = {})) ORDER BY n.id DESC"
        " LIMIT {}", app_id, pid, pid, limit + 1,
    ), limit)
    n_where, n_args = ids_in("notification", [n["id"] for n in notifications] or [0])
    deliveries = cut.newest("deliveries", await Person.raw(
        "SELECT notification, device, status, error, reason, attempts, updated_at FROM deliveries"
        f" WHERE person = {{}} AND {n_where} ORDER BY id DESC LIMIT {{}}", pid, *n_args, DELIVERY_LIMIT + 1,
    ), DELIVERY_LIMIT)
    reads = cut.newest("readMarks", await PersonRead.select(PersonRead.notification, PersonRead.created_at).where(
        PersonRead.person == pid
    ).order_by(PersonRead.notification, ascending=False).limit(limit + 1), limit)
    by_notification: dict[int, list[dict]] = {}
    for d in deliveries:
        by_notification.setdefault(d["notification"], []).append({
            "deviceId": str(d["device"]), "status": d["status"], "error": d["error"], "reason": d["reason"],
            "attempts": d["attempts"], "updatedAt": _iso(d["updated_at"]),
        })
    kept = [n["id"] for n in notifications]
    read_ids = {r["notification"] for r in await PersonRead.select(PersonRead.notification).where(
        (PersonRead.person == pid) & PersonRead.notification.is_in(kept or [0])
    )}
    of_device: dict[int, dict[str, list]] = {d["id"]: {"channels": [], "grants": []} for d in devices}
    for c in channels:
        of_device[c["device"]]["channels"].append(
            {"id": str(c["id"]), "name": c["name"], "visibility": c["visibility"], "since": _iso(c["since"])}
        )
    for g in grants:
        of_device[g["device"]]["grants"].append(
            {"channelId": str(g["channel"]), "channel": g["name"], "since": _iso(g["since"])}
        )
    return {
        "app": str(app_id),
        "identifier": person["identifier"],
        "createdAt": _iso(person["created_at"]),
        "devices": [
            {
                "id": str(d["id"]), "platform": d["platform"], "tokenHint": token_hint(d["token"]),
                "active": bool(d["active"]), "createdAt": _iso(d["created_at"]), "lastSeenAt": _iso(d["last_seen_at"]),
                **of_device[d["id"]],
            }
            for d in devices
        ],
        "notifications": [
            {
                "id": str(n["id"]), "channelId": str(n["channel"]) if n["channel"] is not None else None,
                "title": n["title"], "body": n["body"],
                "data": orjson.loads(n["data"]) if isinstance(n["data"], str | bytes) else n["data"],
                "status": n["status"], "createdAt": _iso(n["created_at"]), "read": n["id"] in read_ids,
                "deliveries": by_notification.get(n["id"], []),
            }
            for n in notifications
        ],
        "readMarks": [{"notificationId": str(r["notification"]), "at": _iso(r["created_at"])} for r in reads],
        "preferences": await _preferences(app_id, pid),
        "truncated": bool(cut.lists),
        "truncatedLists": sorted(cut.lists),
    }


async def _preferences(app_id: int, person_id: int) -> dict:
    """Muted channels and quiet hours (erased with the person: ON DELETE CASCADE)."""
    from api.engagement import preferences

    settings = await preferences.get(preferences.Owner(app_id, person=person_id))
    quiet = settings.quiet
    return {
        "mutedChannelIds": [str(c) for c in settings.muted],
        "quietHours": {"start": quiet.start, "end": quiet.end, "timeZone": quiet.time_zone} if quiet else None,
    }


async def limit(runtime: Runtime, app_id: int) -> None:
    """Export and erase read or rewrite a person's whole history: bounded per app."""
    await runtime.limiter.hit(runtime.settings.erase_rate, "person-privacy", str(app_id),
                              message="too many exports and erasures for this app; wait before trying again")


async def erase(runtime: Runtime, app_id: int, identifier: str) -> bool:
    """Returns whether there was a person to erase (the identifier is scrubbed either way)."""
    identifier = service.identifier(identifier)
    devices: list[int] = []
    async with db.transaction():
        person = await service.find(app_id, identifier)
        if person is not None:
            devices = await _erase_person(app_id, person["id"])
        await _scrub_identifier(app_id, identifier)
        hooks = await webhook_service.record([(app_id, "person.erased", {"identifier": identifier})])
    # Their devices' open streams lose the private channels the grants opened at once (their
    # person's direct sends already stop: a send's devices are looked up as it is published).
    if devices:
        await access_changed(*(f"device:{d}" for d in devices))
    await webhook_service.kick(runtime, hooks)
    return person is not None


async def _erase_person(app_id: int, pid: int) -> list[int]:
    """The person's rows gone; returns the devices they had."""
    device_ids = [r["device"] for r in await PersonDevice.select(PersonDevice.device).where(
        PersonDevice.person == pid
    )]
    await Person.raw("UPDATE deliveries SET person = NULL WHERE person = {}", pid)
    await PersonRead.delete().where(PersonRead.person == pid)
    await NotificationPerson.delete().where(NotificationPerson.person == pid)
    if device_ids:
        d_where, d_args = ids_in("device", device_ids)
        await ReadMark.raw(
            f"DELETE FROM read_marks WHERE {d_where} AND notification IN (SELECT id FROM notifications"
            " WHERE app = {})", *d_args, app_id,
        )
        # The grants the app gave the person's devices, then their subscriptions to the app's
        # private channels that no grant backs any more: the grants first, so that a subscribe
        # holding one (api/channels/service.py) has committed before its subscription is looked for.
        await ReadMark.raw(f"DELETE FROM device_access_grants WHERE {d_where} AND app = {{}}", *d_args, app_id)
        await ReadMark.raw(
            f"DELETE FROM channel_subscriptions WHERE {d_where} AND channel IN (SELECT c.id FROM channels c"
            " WHERE c.app = {} AND c.visibility = 'PRIVATE') AND NOT EXISTS (SELECT 1 FROM device_access_grants g"
            " WHERE g.device = channel_subscriptions.device AND g.channel = channel_subscriptions.channel)",
            *d_args, app_id,
        )
    await PersonDevice.delete().where(PersonDevice.person == pid)
    await Person.delete().where(Person.id == pid)
    return device_ids


async def _scrub_identifier(app_id: int, identifier: str) -> None:
    """The identifier where it was written outside the person: access codes (unredeemed ones
    would link the person again: deleted), webhook events' payloads (device.* carry it)."""
    await Person.raw(
        "DELETE FROM access_codes WHERE app = {} AND identifier = {} AND redeemed_at IS NULL", app_id, identifier
    )
    await Person.raw("UPDATE access_codes SET identifier = NULL WHERE app = {} AND identifier = {}",
                     app_id, identifier)
    hook = await webhook_service.get_webhook(app_id)
    if hook is None:
        return
    # Only device.* events carry an identifier: the database finds the candidates (those holding
    # the identifier as a JSON string; never the app's whole event log in memory), the exact check
    # is made on the decoded payload.
    written = orjson.dumps(identifier).decode()
    pattern = "%" + written.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = await Person.raw(
        "SELECT id, payload FROM webhook_events WHERE webhook = {} AND event_type LIKE 'device.%'"
        " AND CAST(payload AS TEXT) LIKE {} ESCAPE '\\'", hook["id"], pattern,
    )
    for row in rows:
        payload = orjson.loads(row["payload"]) if isinstance(row["payload"], str | bytes) else row["payload"]
        if payload.get("identifier") == identifier:
            payload["identifier"] = None
            await Person.raw("UPDATE webhook_events SET payload = {} WHERE id = {}",
                             orjson.dumps(payload).decode(), row["id"])

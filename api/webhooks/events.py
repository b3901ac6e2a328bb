"""The domain's webhook events, built from ledger rows.

The delivery ledger records its events in the same transaction as the change they describe
(webhooks.service.record), so their order follows the order of the ledger's commits even when
two tasks race on one notification. Other callers use service.emit after their write.
"""

from __future__ import annotations

from collections.abc import Iterable

from api.channels.tables import Channel, ChannelSubscription
from api.runtime import get_runtime
from api.webhooks import service

FINAL = {"DELIVERED": "delivery.delivered", "FAILED": "delivery.failed"}


def _iso(value) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else value


def delivery_events(rows: Iterable[dict], apps: set[int] | None = None) -> list[tuple]:
    """Events for delivery rows (with their notification's app as `app`) that reached a final
    status (`apps`: of these apps only)."""
    return [
        (r["app"], FINAL[r["status"]], {
            "deliveryId": str(r["id"]), "notificationId": str(r["notification"]), "deviceId": str(r["device"]),
            "status": r["status"], "error": r["error"], "ticketId": r["ticket_id"], "attempts": r["attempts"],
            "updatedAt": _iso(r["updated_at"]),
        })
        for r in rows
        if r.get("app") is not None and r["status"] in FINAL and (apps is None or r["app"] in apps)
    ]


def notification_events(app_id: int | None, notification_id: int, status: str, *,
                        first_sent: bool, all_failed: bool) -> list[tuple]:
    if app_id is None:
        return []
    data = {"notificationId": str(notification_id), "status": status}
    return ([(app_id, "notification.sent", data)] if first_sent else []) + (
        [(app_id, "notification.failed", data)] if all_failed else []
    )


async def device_joined(device_id: int, app_id: int | None, added: int = 1) -> None:
    """device.registered: the device just got its first channels in this app (`added` new
    subscriptions are all it has there). Carries the device's person in the app, if any."""
    from api.people.service import identifiers_of

    if app_id is None or added < 1:
        return
    count = await ChannelSubscription.count().where(
        (ChannelSubscription.device == device_id)
        & ChannelSubscription.channel.is_in(Channel.select(Channel.id).where(Channel.app == app_id))
    )
    if count == added:
        (identifier,) = await identifiers_of([(device_id, app_id)])
        await service.emit(get_runtime(), [
            (app_id, "device.registered", {"deviceId": str(device_id), "identifier": identifier})
        ])


async def apps_of_devices(device_ids: list[int]) -> dict[int, dict[int, str | None]]:
    """device -> {app: the device's person's identifier in it} for every app the device follows a
    channel of or belongs to a person of (read before an unregister removes both)."""
    if not device_ids:
        return {}
    marks = ", ".join("{}" for _ in device_ids)
    rows = await ChannelSubscription.raw(
        "SELECT DISTINCT s.device AS device, c.app AS app FROM channel_subscriptions s"
        f" JOIN channels c ON c.id = s.channel WHERE c.app IS NOT NULL AND s.device IN ({marks})"
        " UNION SELECT device, app FROM person_devices WHERE device IN (" + marks + ")",
        *device_ids, *device_ids,
    )
    persons = await ChannelSubscription.raw(
        "SELECT pd.device AS device, pd.app AS app, p.identifier AS identifier FROM person_devices pd"
        f" JOIN persons p ON p.id = pd.person WHERE pd.device IN ({marks})",
        *device_ids,
    )
    identifier = {(r["device"], r["app"]): r["identifier"] for r in persons}
    out: dict[int, dict[int, str | None]] = {}
    for r in rows:
        out.setdefault(r["device"], {})[r["app"]] = identifier.get((r["device"], r["app"]))
    return out


def devices_left(apps_by_device: dict[int, dict[int, str | None]], reasons: dict[int, str]) -> list[tuple]:
    """device.unregistered, to every app the device was in: unregistered, or dead at the provider."""
    return [
        (app_id, "device.unregistered",
         {"deviceId": str(device_id), "reason": reasons.get(device_id), "identifier": apps[app_id]})
        for device_id, apps in apps_by_device.items()
        for app_id in sorted(apps)
    ]

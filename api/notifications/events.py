"""Live events: notification rows and delivery changes as JSON-safe dicts for the hub."""

from __future__ import annotations

import datetime as dt
from typing import Any

_DATETIME_FIELDS = ("send_at", "created_at", "sent_at", "completed_at", "archived_at", "kicked_at",
                    "next_attempt_at", "lease_until", "updated_at", "edited_at")


def channel_topic(channel_id: int) -> str:
    return f"channel:{channel_id}"


def app_notifications_topic(app_id: int) -> str:
    return f"app:{app_id}:notifications"


def app_deliveries_topic(app_id: int) -> str:
    return f"app:{app_id}:deliveries"


def to_event(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in row.items()}


def from_event(event: dict[str, Any]) -> dict[str, Any]:
    row = dict(event)
    for key in _DATETIME_FIELDS:
        if isinstance(row.get(key), str):
            row[key] = dt.datetime.fromisoformat(row[key])
    return row


def device_topic(device_id: int) -> str:
    return f"device:{device_id}:notifications"


def notification_topics(row: dict[str, Any], direct: dict[int, list[str]] | None = None) -> list[str]:
    """A channel send goes to its channel's topic; a direct send to its devices' topics (`direct`:
    notification id -> those topics), which their streams follow."""
    if row["channel"] is not None:
        topics = [channel_topic(row["channel"])]
    else:
        topics = list((direct or {}).get(row["id"], ()))
    if row.get("app") is not None:
        topics.append(app_notifications_topic(row["app"]))
    return topics


# Up to this many devices online (live streams, all processes), a direct send's live event looks
# up only them; beyond, every device of its persons (one query either way).
ONLINE_LOOKUP = 1000


async def direct_topics(live, notification_ids: list[int]) -> dict[int, list[str]]:
    """The topics of direct sends: their devices' now (api/people/service.py, live_devices), of
    those that hold a live stream (no database query at all while none does)."""
    from api.people.service import live_devices

    if not notification_ids:
        return {}
    online = await live.presence.online_devices(ONLINE_LOOKUP)
    found = await live_devices(notification_ids, online)
    return {n: [device_topic(d) for d in devices] for n, devices in found.items()}


async def publish_notification(live, row: dict[str, Any]) -> None:
    await publish_notifications(live, [row])


async def publish_notifications(live, rows: list[dict[str, Any]]) -> None:
    """Several at once, in one message (sending.dispatch coalesces concurrent sends)."""
    direct = await direct_topics(live, [row["id"] for row in rows if row["channel"] is None])
    await live.publish_batch([(notification_topics(row, direct), to_event(row)) for row in rows])

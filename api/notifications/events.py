"""Live events: notification rows and delivery changes as JSON-safe dicts for the hub."""

from __future__ import annotations

import datetime as dt
from typing import Any

_DATETIME_FIELDS = ("send_at", "created_at", "sent_at", "completed_at", "archived_at", "kicked_at",
                    "next_attempt_at", "lease_until", "updated_at")


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


def notification_topics(row: dict[str, Any]) -> list[str]:
    topics = [channel_topic(row["channel"])]
    if row.get("app") is not None:
        topics.append(app_notifications_topic(row["app"]))
    return topics


async def publish_notification(live, row: dict[str, Any]) -> None:
    await publish_notifications(live, [row])


async def publish_notifications(live, rows: list[dict[str, Any]]) -> None:
    """Several at once, in one message (sending.dispatch coalesces concurrent sends)."""
    await live.publish_batch([(notification_topics(row), to_event(row)) for row in rows])

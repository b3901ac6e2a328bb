"""Opens: a device reports that its user opened (tapped) a notification it was sent.

Recorded once on the delivery row (deliveries.opened_at), counted in DeliveryCounts.opened and
the app's statistics, and announced by the webhook `notification.clicked`, recorded in the same
transaction as the open: a repeated or concurrent report finds opened_at set and emits nothing.
"""

from __future__ import annotations

import datetime as dt

from api import db
from api.errors import NotFound
from api.notifications.tables import Delivery, Notification
from api.runtime import Runtime
from api.webhooks import service as webhooks

# What a device can have opened: a push that reached its provider.
REACHED = ("SENT", "DELIVERED")


async def mark_opened(runtime: Runtime, device_id: int, notification_id: int) -> bool:
    """True when this call recorded the open, False when it was recorded before. NOT_FOUND when
    the notification was never pushed to this device (nothing to have opened)."""
    now = dt.datetime.now(dt.UTC)
    async with db.transaction():
        opened = await Delivery.update({Delivery.opened_at: now}).where(
            (Delivery.notification == notification_id) & (Delivery.device == device_id)
            & Delivery.status.is_in(list(REACHED)) & Delivery.opened_at.is_null()
        ).returning(Delivery.id)
        hooks: set[int] = set()
        if opened:
            note = await Notification.select(Notification.app).where(Notification.id == notification_id).first()
            hooks = await webhooks.record([(note["app"] if note else None, "notification.clicked", {
                "notificationId": str(notification_id), "deliveryId": str(opened[0]["id"]),
                "deviceId": str(device_id), "openedAt": now.isoformat(),
            })])
    if opened:
        await webhooks.kick(runtime, hooks)
        return True
    if await Delivery.exists().where(
        (Delivery.notification == notification_id) & (Delivery.device == device_id)
        & Delivery.status.is_in(list(REACHED))
    ):
        return False
    raise NotFound("notification not found")

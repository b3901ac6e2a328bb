"""Engagement operations: channel settings, opens, edits and retractions (more to come: preferences)."""

from __future__ import annotations

import strawberry

from api.channels.types import Channel
from api.channels import service as channels
from api.engagement import channel_settings, edits, opens
from api.engagement.types import UpdateNotificationInput
from api.graphql import permissions as perms
from api.graphql.context import Info
from api.ids import parse_id
from api.notifications.resolvers import administered_notification
from api.notifications.types import Notification


@strawberry.type
class EngagementMutation:
    @strawberry.mutation(
        description="Channel settings (the app's owner or key): critical bypasses quiet hours, digests and "
        "caps; digestWindow (seconds, 5-86400; 0 or null: off) merges further notifications to a device."
    )
    async def update_channel(
        self,
        info: Info,
        id: strawberry.ID,
        critical: bool | None = strawberry.UNSET,
        digest_window: int | None = strawberry.UNSET,
    ) -> Channel:
        row, access = await perms.administered_channel(info, id)
        updated = await channel_settings.update_channel(row["id"], critical=critical, digest_window=digest_window)
        return Channel(row=updated, access=access)

    @strawberry.mutation(
        description="The device (with its key) reports that its user opened a notification pushed to it: "
        "recorded once (Delivery.openedAt), counted, and sent as the webhook notification.clicked. "
        "True when recorded now, false when recorded before."
    )
    async def mark_opened(self, info: Info, device_token: str, notification_id: strawberry.ID) -> bool:
        device = await perms.authenticated_device(info, device_token)
        nid = parse_id(notification_id, "notification")
        return await opens.mark_opened(info.context.runtime, device["id"], nid)

    @strawberry.mutation(
        description="Correct a notification (the app's owner or key): the inbox shows the new version, live "
        "subscribers get it, and devices it reached get a replacement with the same collapse id."
    )
    async def update_notification(self, info: Info, id: strawberry.ID, input: UpdateNotificationInput) -> Notification:
        row, access = await administered_notification(info, id)
        (channel,) = await channels.channels_by_ids([row["channel"]])
        updated = await edits.update_notification(
            info.context.runtime, row, channel["name"] if channel else "",
            title=input.title, body=input.body, data=input.data,
        )
        return Notification(row=updated, access=access)

    @strawberry.mutation(
        description="Take a notification back (the app's owner or key): RETRACTED, gone from inboxes, its unsent "
        "deliveries SKIPPED (reason Retracted), and a data-only push tells the devices it reached to remove it."
    )
    async def retract_notification(self, info: Info, id: strawberry.ID) -> Notification:
        row, access = await administered_notification(info, id)
        return Notification(row=await edits.retract_notification(info.context.runtime, row), access=access)

"""Engagement operations: channel settings, opens (more to come: edits, preferences)."""

from __future__ import annotations

import strawberry

from api.channels.types import Channel
from api.engagement import channel_settings, opens
from api.graphql import permissions as perms
from api.graphql.context import Info
from api.ids import parse_id


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

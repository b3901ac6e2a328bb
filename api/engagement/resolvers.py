"""Engagement operations: updateChannel (more to come: opens, edits, preferences)."""

from __future__ import annotations

import strawberry

from api.channels.types import Channel
from api.engagement import channel_settings
from api.graphql import permissions as perms
from api.graphql.context import Info


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

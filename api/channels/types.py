"""GraphQL types of channels and subscriptions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from api.channels import service
from api.devices import service as devices
from api.devices.types import Device
from api.graphql.context import Info
from api.graphql.loaders import loader
from api.graphql.nodes import RowNode
from api.graphql.pagination import PageInfo
from api.graphql.scalars import DateTime
from api.graphql.shared import ChannelVisibility

if TYPE_CHECKING:
    from api.apps.types import App


@strawberry.type
class Channel(RowNode):
    @strawberry.field
    def name(self) -> str:
        return self.row["name"]

    @strawberry.field
    def visibility(self) -> ChannelVisibility:
        return ChannelVisibility(self.row["visibility"])

    @strawberry.field(description="Null for a public channel created by anonymous use.")
    async def app(self, info: Info) -> Annotated[App, strawberry.lazy("api.apps.types")] | None:
        from api.apps import service as apps
        from api.apps.types import App

        if self.row["app"] is None:
            return None
        row = await loader(info, "app", apps.apps_by_ids).load(self.row["app"])
        return App(row=row, access=self.access) if row else None

    @strawberry.field
    async def subscriber_count(self, info: Info) -> int:
        return await loader(info, "subscriber_count", service.subscriber_counts).load(self.row["id"])

    @strawberry.field
    def created_at(self) -> DateTime:
        return self.row["created_at"]

    @strawberry.field(description="Bypasses quiet hours, digests and per-person caps.")
    def critical(self) -> bool:
        return bool(self.row.get("critical"))

    @strawberry.field(description="Seconds: further notifications to a device within it go out as one digest.")
    def digest_window(self) -> int | None:
        return self.row.get("digest_window")


@strawberry.type
class ChannelSubscription(RowNode):
    @strawberry.field
    async def channel(self, info: Info) -> Channel:
        row = await loader(info, "channel", service.channels_by_ids).load(self.row["channel"])
        return Channel(row=row, access=self.access)

    @strawberry.field
    async def device(self, info: Info) -> Device:
        row = await loader(info, "device", devices.devices_by_ids).load(self.row["device"])
        return Device(row=row, access=self.access)

    @strawberry.field
    def created_at(self) -> DateTime:
        return self.row["created_at"]


@strawberry.type
class ChannelSubscriptionConnection:
    nodes: list[ChannelSubscription]
    page_info: PageInfo

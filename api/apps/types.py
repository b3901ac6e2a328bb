"""GraphQL types of apps, API keys and usage."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import strawberry

from api.apps import plans, service
from api.errors import BadUserInput, Forbidden
from api.graphql.context import Info
from api.graphql.loaders import loader
from api.graphql.nodes import RowNode
from api.graphql.scalars import DateTime
from api.graphql.shared import DeliveryCounts, Plan

if TYPE_CHECKING:
    from api.apps.credentials_api import ProviderSettings
    from api.channels.types import Channel


@strawberry.type
class ApiKey:
    id: strawberry.ID
    prefix: str = strawberry.field(description="First characters, for recognition.")
    created_at: DateTime
    last_used_at: DateTime | None
    revoked_at: DateTime | None

    @classmethod
    def from_row(cls, row: dict) -> ApiKey:
        return cls(
            id=strawberry.ID(str(row["id"])),
            prefix=row["prefix"],
            created_at=row["created_at"],
            last_used_at=row["last_used_at"],
            revoked_at=row["revoked_at"],
        )


@strawberry.type
class CreatedApiKey:
    api_key: ApiKey
    secret: str = strawberry.field(description="Shown once; only a hash is kept.")


@strawberry.type
class DeliveryBucket:
    start: DateTime
    sent: int
    delivered: int
    failed: int
    opened: int = strawberry.field(default=0, description="Opens reported in this hour (markOpened).")


@strawberry.type
class AppUsage:
    notifications_today: int
    daily_quota: int | None
    active_devices: int
    deliveries: DeliveryCounts

    @strawberry.field(description="Opened deliveries per delivery that reached a device (sent or delivered); "
                      "null before any did.")
    def open_rate(self) -> float | None:
        reached = self.deliveries.sent + self.deliveries.delivered
        return self.deliveries.opened / reached if reached else None


@strawberry.type
class App(RowNode):
    @strawberry.field
    def name(self) -> str:
        return self.row["name"]

    @strawberry.field
    def plan(self) -> Plan:
        return Plan(self.row["plan"])

    @strawberry.field
    def created_at(self) -> DateTime:
        return self.row["created_at"]

    @strawberry.field(description="Owner or key: every channel; others: what they may see.")
    async def channels(
        self, info: Info
    ) -> list[Annotated[Channel, strawberry.lazy("api.channels.types")]]:
        from api.channels import service as channels
        from api.channels.types import Channel

        # Keyed by the access too: what an app's channel list shows depends on who reached it.
        rows = await loader(info, "app_channels", channels.channels_of_apps_for).load(
            (self.row["id"], self.access)
        )
        return [Channel(row=r, access=self.access) for r in rows]

    @strawberry.field(description="Owner only.")
    async def api_keys(self, info: Info) -> list[ApiKey]:
        if not self.access.is_owner:
            raise Forbidden("only the app's owner sees its API keys")
        rows = await loader(info, "api_keys", service.api_keys_of_apps).load(self.row["id"])
        return [ApiKey.from_row(r) for r in rows]

    @strawberry.field(description="Owner or the app's own key.")
    async def usage(self, info: Info) -> AppUsage:
        self._require_admin()
        app_id = self.row["id"]
        quota = plans.limits_for(self.row["plan"], info.context.runtime.settings).daily_quota
        # The three figures of every app in the response, each in one statement.
        today, devices, deliveries = await asyncio.gather(
            loader(info, "notifications_today", service.notifications_today_of_apps).load(app_id),
            loader(info, "active_devices", service.active_devices_of_apps).load(app_id),
            loader(info, "app_delivery_counts", service.delivery_counts_of_apps).load(app_id),
        )
        return AppUsage(
            notifications_today=today,
            daily_quota=quota,
            active_devices=devices,
            deliveries=DeliveryCounts.from_map(deliveries),
        )

    @strawberry.field(description="Deliveries per hour over the last `hours` (1-168), by outcome.")
    async def delivery_stats(self, info: Info, hours: int = 24) -> list[DeliveryBucket]:
        self._require_admin()
        if not 1 <= hours <= 168:
            raise BadUserInput("hours must be between 1 and 168")
        return [DeliveryBucket(**b) for b in await service.delivery_buckets(self.row["id"], hours)]

    @strawberry.field(description="Which provider credentials the app set (owner only).")
    async def providers(
        self, info: Info
    ) -> Annotated[ProviderSettings, strawberry.lazy("api.apps.credentials_api")]:
        from api.apps import credentials
        from api.apps.credentials_api import ProviderSettings

        if not self.access.is_owner:
            raise Forbidden("only the app's owner sees its provider settings")
        row = await loader(info, "app_providers", credentials.settings_of_apps).load(self.row["id"])
        return ProviderSettings(**row)

    @strawberry.field(
        description="Owner only. The app's server signs a person's identifier with it: "
        "hex(HMAC-SHA256(identitySecret, identifier)) is the signature a device presents in registerDevice."
    )
    async def identity_secret(self, info: Info) -> str:
        from api.people import identity

        if not self.access.is_owner:
            raise Forbidden("only the app's owner sees its identity secret")
        return await identity.secret_of(self.row["id"], info.context.runtime.secret_key)

    @strawberry.field(description="Pushes per person per hour (setPersonHourlyCap); null: the server's default. "
                      "Owner or key; null for others.")
    def person_hourly_cap(self) -> int | None:
        return self.row.get("person_hourly_cap") if self.access.administers(self.row["id"]) else None

    def _require_admin(self) -> None:
        if not self.access.administers(self.row["id"]):
            raise Forbidden("only the app's owner or its API key sees this")


@strawberry.type
class CreateAppPayload:
    app: App
    api_key: CreatedApiKey

"""GraphQL types of people."""

from __future__ import annotations

import strawberry

from api.access import Access
from api.channels.types import Channel
from api.devices.types import Device
from api.graphql.context import Info
from api.graphql.loaders import loader
from api.graphql.nodes import RowNode
from api.graphql.pagination import Page, PageInfo, decode_cursor, page_size
from api.graphql.scalars import DateTime
from api.graphql.shared import DeliveryCounts
from api.notifications.types import Delivery, Notification
from api.people import history, presence, reads, service

MAX_PERSON_DELIVERIES = 20


@strawberry.input(
    description="A person signed by the app's server: signature = hex(HMAC-SHA256(App.identitySecret, identifier))."
)
class IdentityInput:
    app_id: strawberry.ID
    identifier: str
    signature: str


@strawberry.type
class QuietHours:
    start: str = strawberry.field(description='"22:00", local time of timeZone.')
    end: str
    time_zone: str = strawberry.field(description='IANA name, e.g. "Europe/Berlin".')


@strawberry.type(
    description="Muted channels (SKIPPED, still in the inbox) and quiet hours (non-critical pushes HELD "
    "until they end); setPreferences sets them."
)
class Preferences:
    muted_channels: list[Channel]
    quiet_hours: QuietHours | None


@strawberry.type(description="An app's own identifier for one of its users, and what Booper holds about them.")
class Person(RowNode):
    @strawberry.field
    def identifier(self) -> str:
        return self.row["identifier"]

    @strawberry.field(description="Devices linked to the person, active or not: the latest `first` links "
                      "(default 50, at most 100), oldest first.")
    async def devices(self, info: Info, first: int = 50) -> list[Device]:
        size = page_size(first, info.context.runtime.settings.max_page_size)
        rows = await loader(info, "person_devices", service.devices_of_persons).load((self.row["id"], size))
        return [Device(row=r, access=self.access) for r in rows]

    @strawberry.field(description="Notifications that reached the person and that no device of theirs has read.")
    async def unread_count(self, info: Info) -> int:
        return await loader(info, "person_unread", reads.unread_counts).load(self.row["id"])

    @strawberry.field(description="A device of the person holds a live connection now (any API process).")
    async def online(self, info: Info) -> bool:
        return await loader(info, "person_online", presence.online_loader(info.context.runtime)).load(
            self.row["id"]
        )

    @strawberry.field(description="Muted channels and quiet hours (setPreferences).")
    async def preferences(self, info: Info) -> Preferences:
        from api.engagement.preferences import of_persons
        from api.engagement.resolvers import preferences_view

        settings = await loader(info, "person_preferences", of_persons).load((self.row["app"], self.row["id"]))
        return await preferences_view(settings, self.access)

    @strawberry.field(
        description="Notifications that reached the person (a delivery to one of their devices, or a direct "
        "send naming them), newest first, with their read state and their deliveries to the person's devices."
    )
    async def notifications(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> PersonNotificationConnection:
        size = page_size(first, info.context.runtime.settings.max_page_size)
        before = decode_cursor(after)
        rows = await loader(info, "person_notifications", history.pages).load(
            (self.row["id"], self.row["app"], size, before)
        )
        page = Page(rows, size)
        return PersonNotificationConnection(
            nodes=[PersonNotification(person_id=self.row["id"], row=r, access=self.access) for r in page.rows],
            page_info=page.page_info,
        )

    @strawberry.field
    def created_at(self) -> DateTime:
        return self.row["created_at"]


@strawberry.type(description="A notification that reached a person, as that person saw it.")
class PersonNotification:
    person_id: strawberry.Private[int]
    row: strawberry.Private[dict]
    access: strawberry.Private[Access]

    @strawberry.field
    def notification(self) -> Notification:
        return Notification(row=self.row, access=self.access)

    @strawberry.field(description="Read by the person, on any of their devices.")
    async def read(self, info: Info) -> bool:
        return await loader(info, "person_read", history.read_flags).load((self.person_id, self.row["id"]))

    @strawberry.field(description="The notification's deliveries to the person's devices, by status.")
    async def delivery_counts(self, info: Info) -> DeliveryCounts:
        counts = await loader(info, "person_delivery_counts", history.delivery_counts).load(
            (self.person_id, self.row["id"])
        )
        return DeliveryCounts.from_map(counts)

    @strawberry.field(
        description=f"The notification's deliveries to the person's devices (one per device), the first `first` "
        f"(default 10, at most {MAX_PERSON_DELIVERIES}), oldest first: deliveryCounts counts them all."
    )
    async def deliveries(self, info: Info, first: int = 10) -> list[Delivery]:
        size = page_size(first, MAX_PERSON_DELIVERIES)
        rows = await loader(info, "person_deliveries", history.deliveries).load((self.person_id, self.row["id"], size))
        return [Delivery(row=r, access=self.access) for r in rows]


@strawberry.type
class PersonNotificationConnection:
    nodes: list[PersonNotification]
    page_info: PageInfo


@strawberry.type
class PersonConnection:
    nodes: list[Person]
    page_info: PageInfo

"""GraphQL types of notifications and deliveries."""

from __future__ import annotations

from enum import Enum

import strawberry

from api.channels import service as channels
from api.channels.types import Channel
from api.delivery import attempts
from api.devices import service as devices
from api.devices.types import Device
from api.engagement.types import ExpoOptions, ExpoOptionsInput, WebPushOptions, WebPushOptionsInput
from api.errors import Forbidden
from api.graphql.context import Info
from api.graphql.loaders import loader
from api.graphql.nodes import RowNode
from api.graphql.pagination import PageInfo
from api.graphql.scalars import JSON, DateTime
from api.graphql.shared import DeliveryCounts, DeliveryStatus, NotificationStatus, Priority
from api.notifications import service, targets
from api.people import reads


@strawberry.input
class SendNotificationInput:
    channel_id: strawberry.ID | None = None
    channel: str | None = strawberry.field(default=None, description="Channel name, alternative to channelId.")
    title: str | None = None
    body: str | None = None
    data: JSON | None = None
    priority: Priority | None = Priority.DEFAULT
    collapse_key: str | None = None
    ttl: int | None = strawberry.field(default=None, description="Seconds.")
    send_at: DateTime | None = strawberry.field(default=None, description="Schedule for later.")
    idempotency_key: str | None = strawberry.field(
        default=None, description="Same key + same app => same notification, sent once."
    )
    app_id: strawberry.ID | None = strawberry.field(
        default=None, description="For dashboard users sending by channel name, or to persons or devices."
    )
    identifiers: list[str] | None = strawberry.field(
        default=None, description="People of the app (at most 1,000): each one's active devices."
    )
    device_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Devices of the app (at most 1,000)."
    )
    critical: bool | None = strawberry.field(
        default=None, description="Bypasses quiet hours, digests and caps (the app's owner or key only)."
    )
    url: str | None = strawberry.field(default=None, description="Opened when the notification is tapped (https).")
    image: str | None = strawberry.field(default=None, description="An https URL of an image to show.")
    badge: int | None = strawberry.field(
        default=None, description="Explicit badge count; by default each person's unread count."
    )
    expo: ExpoOptionsInput | None = None
    web_push: WebPushOptionsInput | None = None


@strawberry.type
class Notification(RowNode):
    @strawberry.field(description="Null for a direct send (to persons or devices).")
    async def channel(self, info: Info) -> Channel | None:
        if self.row["channel"] is None:
            return None
        row = await loader(info, "channel", channels.channels_by_ids).load(self.row["channel"])
        return Channel(row=row, access=self.access)

    @strawberry.field(description="Who a direct send went to (the app's owner or key; null otherwise).")
    async def identifiers(self, info: Info) -> list[str] | None:
        if not self.access.administers(self.row["app"]):
            return None
        return await loader(info, "notification_identifiers", targets.identifiers_of).load(self.row["id"])

    @strawberry.field
    def title(self) -> str | None:
        return self.row["title"]

    @strawberry.field
    def body(self) -> str | None:
        return self.row["body"]

    @strawberry.field
    def data(self) -> JSON | None:
        return self.row["data"]

    @strawberry.field
    def priority(self) -> Priority:
        return Priority(self.row["priority"])

    @strawberry.field
    def collapse_key(self) -> str | None:
        return self.row["collapse_key"]

    @strawberry.field(description="Seconds.")
    def ttl(self) -> int | None:
        return self.row["ttl"]

    @strawberry.field
    def status(self) -> NotificationStatus:
        return NotificationStatus(self.row["status"])

    @strawberry.field
    def send_at(self) -> DateTime | None:
        return self.row["send_at"]

    @strawberry.field
    def created_at(self) -> DateTime:
        return self.row["created_at"]

    @strawberry.field
    def sent_at(self) -> DateTime | None:
        return self.row["sent_at"]

    @strawberry.field(description="When updateNotification last changed it.")
    def edited_at(self) -> DateTime | None:
        return self.row.get("edited_at")

    @strawberry.field(description="Bypasses quiet hours, digests and caps.")
    def critical(self) -> bool:
        return bool(self.row.get("critical"))

    @strawberry.field(description="Opened when the notification is tapped.")
    def url(self) -> str | None:
        return (self.row.get("presentation") or {}).get("url")

    @strawberry.field
    def image(self) -> str | None:
        return (self.row.get("presentation") or {}).get("image")

    @strawberry.field
    def badge(self) -> int | None:
        return (self.row.get("presentation") or {}).get("badge")

    @strawberry.field
    def expo(self) -> ExpoOptions | None:
        stored = (self.row.get("presentation") or {}).get("expo")
        return ExpoOptions.from_stored(stored) if stored else None

    @strawberry.field
    def web_push(self) -> WebPushOptions | None:
        stored = (self.row.get("presentation") or {}).get("webPush")
        return WebPushOptions.from_stored(stored) if stored else None

    @strawberry.field(
        description="For the device named by deviceToken in the query (read on any device of its person "
        "is read on all of them), else null."
    )
    async def read(self, info: Info) -> bool | None:
        if self.access.role != "device" or self.access.device_id is None:
            return None
        return await loader(info, "read", reads.read_flags).load((self.access.device_id, self.row["id"]))

    @strawberry.field(description="The app's owner or key only.")
    async def delivery_counts(self, info: Info) -> DeliveryCounts:
        if not self.access.administers(self.row["app"]):
            raise Forbidden("only the app's owner or its API key sees delivery counts")
        counts = await loader(info, "delivery_counts", service.delivery_counts).load(self.row["id"])
        return DeliveryCounts.from_map(counts)

    @strawberry.field(
        description="HELD and SKIPPED deliveries by reason (QuietHours, Digest, Capped, Muted, Digested,"
        " ReadElsewhere, Retracted...), most first: the app's owner or key only."
    )
    async def delivery_reasons(self, info: Info) -> list[DeliveryReasonCount]:
        if not self.access.administers(self.row["app"]):
            raise Forbidden("only the app's owner or its API key sees delivery counts")
        rows = await loader(info, "delivery_reasons", service.delivery_reasons).load(self.row["id"])
        return [DeliveryReasonCount(status=DeliveryStatus(s), reason=r, count=n) for s, r, n in rows]


@strawberry.type(description="How many of a notification's deliveries are HELD or SKIPPED for one reason.")
class DeliveryReasonCount:
    status: DeliveryStatus
    reason: str = strawberry.field(description="Empty when none was recorded.")
    count: int


@strawberry.enum(description="SEND: the provider's answer to a send. RECEIPT: Expo's receipt for its ticket.")
class DeliveryAttemptKind(Enum):
    SEND = "SEND"
    RECEIPT = "RECEIPT"


@strawberry.type(description="One provider outcome of a delivery.")
class DeliveryAttempt:
    kind: DeliveryAttemptKind
    at: DateTime
    status: DeliveryStatus = strawberry.field(description="What it left the delivery in (PENDING: a retry is due).")
    error: str | None = strawberry.field(description="Provider error code, e.g. http_503, DeviceNotRegistered.")
    ticket_id: str | None

    @classmethod
    def from_row(cls, row: dict) -> DeliveryAttempt:
        return cls(kind=DeliveryAttemptKind(row["kind"]), at=row["attempted_at"], status=DeliveryStatus(row["status"]),
                   error=row["error"], ticket_id=row["ticket_id"])


@strawberry.type
class Delivery(RowNode):
    @strawberry.field
    async def notification(self, info: Info) -> Notification:
        row = await loader(info, "notification", service.get_many).load(self.row["notification"])
        return Notification(row=row, access=self.access)

    @strawberry.field
    async def device(self, info: Info) -> Device:
        row = await loader(info, "device", devices.devices_by_ids).load(self.row["device"])
        return Device(row=row, access=self.access)

    @strawberry.field
    def status(self) -> DeliveryStatus:
        return DeliveryStatus(self.row["status"])

    @strawberry.field
    def attempts(self) -> int:
        return self.row["attempts"]

    @strawberry.field(description="Provider error code, e.g. DeviceNotRegistered, http_410.")
    def error(self) -> str | None:
        return self.row["error"]

    @strawberry.field
    def ticket_id(self) -> str | None:
        return self.row["ticket_id"]

    @strawberry.field
    def updated_at(self) -> DateTime:
        return self.row["updated_at"]

    @strawberry.field(description="SKIPPED Digested: the delivery whose digest push carried this one.")
    def digest_of(self) -> strawberry.ID | None:
        return str(self.row["digest_of"]) if self.row.get("digest_of") is not None else None

    @strawberry.field(description="When the device reported that its user opened it (markOpened).")
    def opened_at(self) -> DateTime | None:
        return self.row.get("opened_at")

    @strawberry.field(description="Provider outcomes, oldest first, the latest `first` (at most 20, all that is "
                      "kept; the app's owner or key).")
    async def history(self, info: Info, first: int = 20) -> list[DeliveryAttempt]:
        # Deliveries reach a caller only through the app's owner or key (deliveries,
        # deliveryEvents), scoped to the app there; a device never sees the ledger.
        if self.access.role not in ("owner", "key"):
            raise Forbidden("only the app's owner or its API key sees delivery history")
        rows = await loader(info, "delivery_history", attempts.attempts_of).load(self.row["id"])
        keep = max(0, min(first, 20))
        return [DeliveryAttempt.from_row(r) for r in (rows[-keep:] if keep else [])]

    @strawberry.field(description="Why HELD or SKIPPED (ReadElsewhere: read on another of the person's devices).")
    def reason(self) -> str | None:
        return self.row.get("reason")


@strawberry.type
class NotificationConnection:
    nodes: list[Notification]
    page_info: PageInfo


@strawberry.type
class DeliveryConnection:
    nodes: list[Delivery]
    page_info: PageInfo

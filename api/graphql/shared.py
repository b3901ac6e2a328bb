"""Enums and small types that several domains share."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum
class Platform(Enum):
    EXPO = "EXPO"
    WEB = "WEB"
    FCM = "FCM"
    APNS = "APNS"


@strawberry.enum
class ChannelVisibility(Enum):
    PUBLIC = "PUBLIC"
    PRIVATE = "PRIVATE"


@strawberry.enum
class Plan(Enum):
    FREE = "FREE"
    PRO = "PRO"
    BUSINESS = "BUSINESS"


@strawberry.enum
class Priority(Enum):
    DEFAULT = "DEFAULT"
    NORMAL = "NORMAL"
    HIGH = "HIGH"


@strawberry.enum
class NotificationStatus(Enum):
    SCHEDULED = "SCHEDULED"
    QUEUED = "QUEUED"
    SENT = "SENT"
    COMPLETED = "COMPLETED"
    CANCELED = "CANCELED"
    RETRACTED = "RETRACTED"  # taken back: gone from inboxes, pending deliveries stopped


@strawberry.enum
class DeliveryStatus(Enum):
    PENDING = "PENDING"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
    HELD = "HELD"  # waiting for quiet hours or a digest window to end
    SKIPPED = "SKIPPED"  # not sent on purpose: muted, read elsewhere, merged into a digest


@strawberry.type
class DeliveryCounts:
    pending: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    held: int = 0
    skipped: int = 0
    opened: int = strawberry.field(default=0, description="Deliveries whose device reported an open (markOpened).")

    @classmethod
    def from_map(cls, counts: dict[str, int]) -> DeliveryCounts:
        """Counts by delivery status, and OPENED: deliveries with an open."""
        return cls(
            pending=counts.get("PENDING", 0),
            sent=counts.get("SENT", 0),
            delivered=counts.get("DELIVERED", 0),
            failed=counts.get("FAILED", 0),
            held=counts.get("HELD", 0),
            skipped=counts.get("SKIPPED", 0),
            opened=counts.get("OPENED", 0),
        )

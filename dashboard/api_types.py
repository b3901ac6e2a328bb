"""What each API operation returns (the data is plain JSON dicts; these say their shape)."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class User(TypedDict):
    id: str
    email: str
    createdAt: NotRequired[str]


class AuthPayload(TypedDict):
    token: str
    user: User


class DeliveryCounts(TypedDict):
    pending: int
    sent: int
    delivered: int
    failed: int


class AppUsage(TypedDict):
    notificationsToday: int
    dailyQuota: int | None
    activeDevices: int
    deliveries: NotRequired[DeliveryCounts]


class ChannelRef(TypedDict):
    id: str
    name: NotRequired[str]
    visibility: NotRequired[str]


class App(TypedDict):
    id: str
    name: str
    plan: str
    createdAt: str
    channels: list[ChannelRef]
    usage: AppUsage


class ApiKey(TypedDict):
    id: str
    prefix: str
    createdAt: str
    lastUsedAt: NotRequired[str | None]
    revokedAt: NotRequired[str | None]


class CreatedApiKey(TypedDict):
    secret: str
    apiKey: ApiKey


class CreateAppPayload(TypedDict):
    app: App
    apiKey: CreatedApiKey


class DeliveryBucket(TypedDict):
    start: str
    sent: int
    delivered: int
    failed: int


class Channel(TypedDict):
    id: str
    name: str
    visibility: str
    subscriberCount: int
    createdAt: str


class Device(TypedDict):
    id: str
    platform: str
    token: str | None  # only for tokens the app registered itself
    tokenHint: str
    identifier: str | None
    active: bool
    createdAt: NotRequired[str]
    lastSeenAt: NotRequired[str | None]


class PageInfo(TypedDict):
    endCursor: str | None
    hasNextPage: bool


class Subscription(TypedDict):
    id: str
    createdAt: str
    device: Device


class SubscriberPage(TypedDict):
    nodes: list[Subscription]
    pageInfo: PageInfo


class AccessCode(TypedDict):
    code: str
    expiresAt: str
    identifier: str | None
    channels: list[ChannelRef]


class Notification(TypedDict):
    id: str
    title: str | None
    body: str | None
    status: str
    priority: str
    createdAt: str
    sendAt: str | None
    sentAt: str | None
    channel: ChannelRef
    deliveryCounts: DeliveryCounts
    data: NotRequired[Any]
    collapseKey: NotRequired[str | None]
    ttl: NotRequired[int | None]
    identifiers: NotRequired[list[str] | None]  # a send to people: the persons it went to


class NotificationPage(TypedDict):
    nodes: list[Notification]
    pageInfo: PageInfo


class DeliveryAttempt(TypedDict):
    kind: str  # SEND or RECEIPT
    status: str  # what it left the delivery in (PENDING: a retry due)
    error: str | None
    ticketId: str | None
    at: str


class Delivery(TypedDict):
    id: str
    status: str
    attempts: int
    error: str | None
    ticketId: NotRequired[str | None]
    updatedAt: str
    device: Device
    notification: NotRequired[dict[str, Any]]
    history: NotRequired[list[DeliveryAttempt]]


class DeliveryPage(TypedDict):
    nodes: list[Delivery]
    pageInfo: PageInfo


class SendInput(TypedDict, total=False):
    channelId: str
    channel: str
    title: str
    body: str
    data: Any
    priority: str
    collapseKey: str
    ttl: int
    sendAt: str
    idempotencyKey: str
    appId: str  # with identifiers or deviceIds (a dashboard user's direct send)
    identifiers: list[str]
    deviceIds: list[str]

"""Notification queries, sendNotification / cancelNotification / markRead, live subscriptions."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator

import strawberry

from api.channels import service as channels
from api.channels.resolvers import resolve_channel
from api.engagement import presentation
from api.errors import BadUserInput, Forbidden, NotFound, Unauthenticated
from api.graphql import permissions as perms
from api.graphql.context import Info
from api.graphql.pagination import Page, decode_cursor, page_size
from api.graphql.scalars import DateTime
from api.graphql.shared import NotificationStatus
from api.ids import parse_id
from api.live.guard import TTL as GUARD_TTL
from api.live.guard import StreamGuard
from api.live.presence import presence_of
from api.live.shared import shared_node
from api.notifications import events, sending, service
from api.notifications.draft import MAX_DIRECT_TARGETS, Draft
from api.notifications.types import (
    Delivery,
    DeliveryConnection,
    Notification,
    NotificationConnection,
    SendNotificationInput,
)
from api.people import reads
from api.people import service as people

MAX_MARK_READ = 500


async def administered_notification(info: Info, notification_id: str) -> tuple[dict, perms.Access]:
    row = await service.get(parse_id(notification_id, "notification"))
    access = await perms.admin_access_for_app(info, row["app"]) if row else None
    if row is None or access is None:
        if (await perms.viewer(info)).is_anonymous:
            raise Unauthenticated("an API key or a dashboard login is needed")
        raise NotFound("notification not found")
    return row, access


@strawberry.type
class NotificationsQuery:
    @strawberry.field(
        description="A device's inbox (deviceToken: all its channels, or one), an app's sent "
        "notifications (owner or key), or a public channel's history. Newest first."
    )
    async def notifications(
        self,
        info: Info,
        channel_id: strawberry.ID | None = None,
        app_id: strawberry.ID | None = None,
        device_token: str | None = None,
        first: int = 50,
        after: str | None = None,
        status: NotificationStatus | None = None,  # filters: only these, created in [since, until)
        since: DateTime | None = None,
        until: DateTime | None = None,
    ) -> NotificationConnection:
        size = page_size(first, info.context.runtime.settings.max_page_size)
        before = decode_cursor(after)
        filters = {"status": status.value if status else None, "since": since, "until": until}
        cid = parse_id(channel_id, "channel") if channel_id is not None else None
        if device_token is not None:
            device = await perms.authenticated_device(info, device_token)
            aid = parse_id(app_id, "app") if app_id is not None else None
            subscribed = [c["id"] for c in await channels.channels_of_device(device["id"], aid)]
            ids = [c for c in subscribed if cid is None or c == cid]
            # Direct sends to the device (or its persons) are in its inbox too, unless one channel is asked for.
            rows = await service.page(first=size, before_id=before, channel_ids=ids, inbox=True,
                                      device_id=device["id"] if cid is None else None, app_id=aid, **filters)
            access = perms.Access("device", device_id=device["id"])
        elif app_id is not None or (await perms.viewer(info)).kind == "key":
            app, access = await perms.implied_app_admin(info, app_id)  # type: ignore[misc]
            rows = await service.page(
                first=size, before_id=before, app_id=app["id"], channel_ids=[cid] if cid else None, **filters
            )
        elif cid is not None:
            channel, access = await perms.visible_channel(info, cid)
            inbox = access.role == "public"
            rows = await service.page(first=size, before_id=before, channel_ids=[cid], inbox=inbox, **filters)
        else:
            raise BadUserInput("pass deviceToken, appId or channelId")
        page = Page(rows, size)
        return NotificationConnection(
            nodes=[Notification(row=r, access=access) for r in page.rows], page_info=page.page_info
        )

    @strawberry.field
    async def notification(
        self, info: Info, id: strawberry.ID, device_token: str | None = None
    ) -> Notification | None:
        if device_token is not None:
            device = await perms.authenticated_device(info, device_token)
            row = await service.in_inbox(device["id"], parse_id(id, "notification"))
            if row is None:
                raise NotFound("notification not found")
            return Notification(row=row, access=perms.Access("device", device_id=device["id"]))
        row, access = await administered_notification(info, id)
        return Notification(row=row, access=access)

    @strawberry.field(description="The ledger of one notification: a row per device (the app only).")
    async def deliveries(
        self, info: Info, notification_id: strawberry.ID, first: int = 50, after: str | None = None
    ) -> DeliveryConnection:
        size = page_size(first, info.context.runtime.settings.max_page_size)
        before = decode_cursor(after)
        row, access = await administered_notification(info, notification_id)
        page = Page(await service.deliveries_page(row["id"], size, before), size)
        return DeliveryConnection(
            nodes=[Delivery(row=r, access=access) for r in page.rows], page_info=page.page_info
        )


@strawberry.type
class NotificationsMutation:
    @strawberry.mutation(
        description="Send (or schedule) a notification to one target: a channel (API key or dashboard user "
        "for the app's channels; anyone for public channels, rate limited), persons of the app "
        "(identifiers) or devices of the app (deviceIds), at most 1,000 (API key, or the owner with appId)."
    )
    async def send_notification(self, info: Info, input: SendNotificationInput) -> Notification:
        kinds = [input.channel_id is not None or input.channel is not None, input.identifiers is not None,
                 input.device_ids is not None]
        if sum(kinds) != 1:
            raise BadUserInput("name exactly one target: channelId or channel, identifiers, or deviceIds")
        draft = Draft(
            title=input.title, body=input.body, data=input.data,
            priority=input.priority.value if input.priority else "DEFAULT", collapse_key=input.collapse_key,
            ttl=input.ttl, send_at=input.send_at, idempotency_key=input.idempotency_key,
            critical=bool(input.critical),
            presentation=presentation.build(input.url, input.image, input.badge, input.expo, input.web_push),
        )
        if kinds[0]:
            access = await _channel_target(info, input, draft)
        else:
            access = await _direct_target(info, input, draft)
        row, _ = await sending.send(
            info.context.runtime,
            draft,
            app_id=access.app_id if access.role in ("owner", "key") else None,
            client_ip=info.context.client_ip,
            plan=(await perms.viewer(info)).plan if access.role == "key" else None,
        )
        return Notification(row=row, access=access)

    @strawberry.mutation(description="Cancel a SCHEDULED notification, or stop a QUEUED one's pending deliveries.")
    async def cancel_notification(self, info: Info, id: strawberry.ID) -> Notification:
        row, access = await administered_notification(info, id)
        return Notification(row=await service.cancel(row), access=access)

    @strawberry.mutation(description="Mark notifications read for a device; returns how many are now read.")
    async def mark_read(self, info: Info, device_token: str, notification_ids: list[strawberry.ID]) -> int:
        if len(notification_ids) > MAX_MARK_READ:
            raise BadUserInput(f"at most {MAX_MARK_READ} ids at once")
        ids = [parse_id(i, "notification") for i in notification_ids]
        device = await perms.authenticated_device(info, device_token)
        return await reads.mark_read(info.context.runtime, device["id"], ids)


async def _channel_target(info: Info, input: SendNotificationInput, draft: Draft) -> perms.Access:
    channel = await resolve_channel(info, input.channel_id, input.channel, input.app_id, create_public=True)
    access = await perms.admin_access_for_app(info, channel["app"])
    if access is None:
        if channel["visibility"] != "PUBLIC":
            if (await perms.viewer(info)).is_anonymous:
                raise Unauthenticated("private channels take an API key or a dashboard login")
            raise NotFound("channel not found")
        access = perms.PUBLIC
    if draft.critical and access.role not in ("owner", "key"):
        raise Forbidden("only the channel's app may send critical notifications")
    draft.channel = channel
    return access


async def _direct_target(info: Info, input: SendNotificationInput, draft: Draft) -> perms.Access:
    """Persons or devices of the caller's app (its key, or its owner with appId): checked before
    anything is written, and a device the app does not know is NOT_FOUND, as if it did not exist."""
    admin = await perms.implied_app_admin(info, input.app_id)
    if admin is None:
        await perms.require_credentials(info)
        raise BadUserInput("a dashboard user sending to persons or devices passes appId")
    app, access = admin
    for given, what in ((input.identifiers, "identifiers"), (input.device_ids, "deviceIds")):
        if given is not None and len(given) > MAX_DIRECT_TARGETS:
            raise BadUserInput(f"{what} may name at most {MAX_DIRECT_TARGETS} at once")
    if input.identifiers is not None:
        if not input.identifiers:
            raise BadUserInput("identifiers must name at least one person")
        draft.identifiers = [people.identifier(i, "each identifier") for i in input.identifiers]
    else:
        if not input.device_ids:
            raise BadUserInput("deviceIds must name at least one device")
        draft.device_ids = list(dict.fromkeys(parse_id(d, "device") for d in input.device_ids))
        known = await people.devices_of_app(app["id"], draft.device_ids)
        if len(known) != len(draft.device_ids):
            raise NotFound("device not found")
    return access


@strawberry.type
class NotificationsSubscription:
    @strawberry.subscription(
        description="Live notifications as they are sent. A device passes its token (with its device "
        "key) and gets its channels; an API key / dashboard user gets the channels of an app it owns; "
        "anyone may follow one public channel by name. Access is checked again while the stream runs: "
        "a stream whose access is gone ends with an error that has a code."
    )
    async def notifications(
        self,
        info: Info,
        device_token: str | None = None,
        app_id: strawberry.ID | None = None,
        channel: str | None = None,
    ) -> AsyncGenerator[Notification, None]:
        hub = info.context.runtime.live
        viewer = await perms.viewer(info)
        if device_token is not None:
            device = await perms.authenticated_device(info, device_token)
            access = perms.Access("device", device_id=device["id"])
            subscribed = await channels.channels_of_device(device["id"])
            # Its channels as they are at each check (one joined or left while the stream is open
            # counts), and direct sends to it or to the persons it belongs to at the time of each
            # send (resolved as the send is published: links made or undone later count).
            follow = _device_topics(device["id"])
            topics, scopes = follow({c["id"] for c in subscribed})
            guard = StreamGuard(hub, _device_check(info, device_token, device["id"]), scopes, follow=follow)
            online = presence_of(info.context.runtime).connected(device["id"])
        elif channel is not None:
            row = await resolve_channel(info, None, channel, app_id, create_public=False)
            access = await perms.channel_access(info, row)
            if access is None:
                raise NotFound("channel not found")
            topics = [events.channel_topic(row["id"])]
            scopes = [f"channel:{row['id']}", *_viewer_scopes(viewer, access)]
            # Anyone may follow a public channel: nothing to expire, only its deletion ends the stream.
            ttl = None if access.role == "public" else GUARD_TTL
            guard = StreamGuard(hub, _channel_check(info, row["id"]), scopes, ttl=ttl,
                                expires_at=viewer.expires_at if access.role == "owner" else None)
        else:
            app, access = await perms.app_admin(info, app_id) if app_id else (None, None)
            if app is None:
                raise BadUserInput("pass deviceToken, appId or channel")
            topics = [events.app_notifications_topic(app["id"])]
            guard = StreamGuard(hub, _app_check(info, app["id"]), [f"app:{app['id']}", *_viewer_scopes(viewer, access)],
                                expires_at=viewer.expires_at)
        # A device counts as online before its stream subscribes: a direct send's live event goes
        # to the devices online as it is published (api/live/presence.py).
        async with online if device_token is not None else contextlib.nullcontext():
            await guard.start(topics)
            try:
                while True:
                    event = await guard.next_event()
                    channel_id = event.get("channel")
                    if guard.allowed is not None and channel_id is not None and channel_id not in guard.allowed:
                        continue  # unsubscribed (or access withdrawn) since the stream began
                    yield shared_node(
                        event, access, lambda e=event: Notification(row=events.from_event(e), access=access)
                    )
            finally:
                guard.stop()

    @strawberry.subscription(description="Delivery status changes of an app, for the dashboard's live view.")
    async def delivery_events(self, info: Info, app_id: strawberry.ID) -> AsyncGenerator[Delivery, None]:
        hub = info.context.runtime.live
        viewer = await perms.viewer(info)
        app, access = await perms.app_admin(info, app_id)
        scopes = [f"app:{app['id']}", *_viewer_scopes(viewer, access)]
        guard = StreamGuard(hub, _app_check(info, app["id"]), scopes, expires_at=viewer.expires_at)
        topic = events.app_deliveries_topic(app["id"])
        # Watched before it subscribes: senders build these events only while someone watches.
        async with hub.watchers.watching(topic):
            await guard.start([topic])
            try:
                while True:
                    event = await guard.next_event()
                    yield shared_node(event, access, lambda e=event: Delivery(row=events.from_event(e), access=access))
            finally:
                guard.stop()


def _viewer_scopes(viewer, access: perms.Access) -> list[str]:
    """What ends a stream with the caller's credentials: the app (its keys) and the user (log-outs)."""
    scopes = [f"app:{access.app_id}"] if access.role in ("owner", "key") else []
    if viewer.kind == "user":
        scopes.append(f"user:{viewer.user_id}")
    return scopes


def _device_topics(device_id: int):
    """What a device's stream listens to with these channels: (topics, access scopes)."""

    def follow(channel_ids: set[int]) -> tuple[list[str], list[str]]:
        ordered = sorted(channel_ids)
        return ([events.channel_topic(c) for c in ordered] + [events.device_topic(device_id)],
                [f"device:{device_id}", *(f"channel:{c}" for c in ordered)])

    return follow


def _device_check(info: Info, token: str, device_id: int):
    """The device still proves itself with its key (not rotated, not unregistered): its channels now."""

    async def check() -> set[int]:
        device = await perms.authenticated_device(info, token)
        if device["id"] != device_id or not device["active"]:
            raise Unauthenticated("this device is no longer registered")
        return {c["id"] for c in await channels.channels_of_device(device_id)}

    return check


def _channel_check(info: Info, channel_id: int):
    """The channel still exists and the caller may still see it."""

    async def check() -> set[int]:
        await perms.visible_channel(info, channel_id)
        return {channel_id}

    return check


def _app_check(info: Info, app_id: int):
    """The caller still administers the app (it exists; the key is not revoked; the login is valid)."""

    async def check() -> None:
        await perms.app_admin(info, app_id)

    return check

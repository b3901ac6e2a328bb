"""Channel queries and mutations: channels, channel, subscribers, create/delete, subscribe."""

from __future__ import annotations

import strawberry

from api import allowances, validation
from api.channels import service
from api.channels.types import Channel, ChannelSubscription, ChannelSubscriptionConnection
from api.errors import BadUserInput, Forbidden, NotFound, QuotaExceeded, Unauthenticated
from api.graphql import permissions as perms
from api.graphql.context import Info
from api.graphql.pagination import Page, decode_cursor, page_size
from api.graphql.shared import ChannelVisibility
from api.ids import parse_id


async def resolve_channel(
    info: Info, channel_id: str | None, name: str | None, app_id: str | None, *, create_public: bool
) -> dict:
    """A channel from an id, or a name in a namespace: the given app's, the API key's app's, or
    (for anonymous callers and users without appId) the global public namespace. An id with an
    appId must be of that app."""
    if (channel_id is None) == (name is None):
        raise BadUserInput("pass exactly one of channelId and name")
    if channel_id is not None:
        row = await _channel_by_id(channel_id)
        if app_id is not None and row["app"] != parse_id(app_id, "app"):
            raise NotFound("channel not found in this app")  # both given: they must agree
        return row
    validation.channel_name(name)  # type: ignore[arg-type]
    if app_id is not None:
        row = await service.by_name(parse_id(app_id, "app"), name)  # type: ignore[arg-type]
    else:
        v = await perms.viewer(info)
        if v.kind == "key":
            row = await service.app_channel_by_name(v.app_id, name)  # type: ignore[arg-type]
        else:
            row = await service.public_channel(name, create=create_public)  # type: ignore[arg-type]
    if row is None:
        raise NotFound("channel not found")
    return row


async def _channel_by_id(channel_id: str) -> dict:
    rows = await service.channels_by_ids([parse_id(channel_id, "channel")])
    if rows[0] is None:
        raise NotFound("channel not found")
    return rows[0]


@strawberry.type
class ChannelsQuery:
    @strawberry.field(
        description="Device (deviceToken with its device key): its subscribed channels (optionally "
        "of one app). Dashboard user / API key: the app's channels."
    )
    async def channels(
        self, info: Info, device_token: str | None = None, app_id: strawberry.ID | None = None
    ) -> list[Channel]:
        if device_token is not None:
            device = await perms.authenticated_device(info, device_token)
            aid = parse_id(app_id, "app") if app_id is not None else None
            access = perms.Access("device", device_id=device["id"])
            return [Channel(row=r, access=access) for r in await service.channels_of_device(device["id"], aid)]
        admin = await perms.implied_app_admin(info, app_id)
        if admin is not None:
            row, access = admin
            return [Channel(row=r, access=access) for r in await service.channels_of_app_for(row["id"], access)]
        v = await perms.viewer(info)
        if v.kind == "user":
            from api.apps.service import apps_of_user

            owned = {a["id"] for a in await apps_of_user(v.user_id)}  # type: ignore[arg-type]
            rows = await service.channels_of_apps(sorted(owned))
            return [
                Channel(row=r, access=perms.Access("owner", app_id=r["app"], user_id=v.user_id))
                for r in rows
            ]
        raise Unauthenticated("pass deviceToken, or authenticate with an API key or a login")

    @strawberry.field(description="A channel by id, or by name (in appId's namespace, else global).")
    async def channel(
        self,
        info: Info,
        id: strawberry.ID | None = None,
        name: str | None = None,
        app_id: strawberry.ID | None = None,
        device_token: str | None = None,
    ) -> Channel | None:
        row = await resolve_channel(info, id, name, app_id, create_public=False)
        device = await perms.optional_device(info, device_token)
        access = await perms.channel_access(info, row, device)
        if access is None:
            raise NotFound("channel not found")
        return Channel(row=row, access=access)

    @strawberry.field(description="A channel's subscribers, newest first (the app only).")
    async def subscribers(
        self, info: Info, channel_id: strawberry.ID, first: int = 50, after: str | None = None
    ) -> ChannelSubscriptionConnection:
        size = page_size(first, info.context.runtime.settings.max_page_size)
        before = decode_cursor(after)
        channel, access = await perms.administered_channel(info, channel_id)
        page = Page(await service.subscribers_page(channel["id"], size, before), size)
        return ChannelSubscriptionConnection(
            nodes=[ChannelSubscription(row=r, access=access) for r in page.rows],
            page_info=page.page_info,
        )


@strawberry.type
class ChannelsMutation:
    @strawberry.mutation(description="Create a channel in an app (owner or the app's key).")
    async def create_channel(
        self,
        info: Info,
        app_id: strawberry.ID,
        name: str,
        visibility: ChannelVisibility = ChannelVisibility.PUBLIC,
    ) -> Channel:
        app, access = await perms.app_admin(info, app_id)
        most = info.context.runtime.settings.max_channels_per_app
        return Channel(row=await service.create_channel(app["id"], name, visibility.value, most=most), access=access)

    @strawberry.mutation(description="Delete a channel with its subscriptions and notifications.")
    async def delete_channel(self, info: Info, id: strawberry.ID) -> bool:
        row, _ = await perms.administered_channel(info, id)
        await service.delete_channel(row["id"])
        return True

    @strawberry.mutation(
        description="Subscribe a device: a public channel by name (created on first use in the "
        "global namespace) or any channel the device may join, by id or appId + name."
    )
    async def subscribe(
        self,
        info: Info,
        device_token: str,
        channel_id: strawberry.ID | None = None,
        name: str | None = None,
        app_id: strawberry.ID | None = None,
    ) -> ChannelSubscription:
        device = await perms.authenticated_device(info, device_token)
        if not device["active"]:
            raise BadUserInput("this device is inactive: register it again first")
        runtime = info.context.runtime
        await runtime.limiter.hit(runtime.settings.subscribe_rate, "subscribe", str(device["id"]),
                                  message="this device subscribes too fast; wait before subscribing again")
        most = runtime.settings.max_subscriptions_per_device
        # A device at its allowance makes no new public channel on the way to being refused.
        room = await service.subscription_count(device["id"]) < most
        # Nor does an FCM or APNs device, which joins only its own app's channels (service.subscribe).
        native = device["app"] is not None
        try:
            channel = await resolve_channel(info, channel_id, name, app_id, create_public=room and not native)
        except NotFound:
            if native and channel_id is None and app_id is None and (await perms.viewer(info)).kind != "key":
                raise Forbidden(service.NOT_ITS_APP) from None  # the global namespace's new name
            if room or channel_id is not None or app_id is not None:
                raise  # an id or an app's name that names nothing is NOT_FOUND, allowance or not
            raise QuotaExceeded(allowances.subscriptions_full(most)) from None
        sub = await service.subscribe(device["id"], channel, most=most)
        return ChannelSubscription(row=sub, access=perms.Access("device", device_id=device["id"]))

    @strawberry.mutation(description="Unsubscribe a device; false if it was not subscribed.")
    async def unsubscribe(
        self,
        info: Info,
        device_token: str,
        channel_id: strawberry.ID | None = None,
        name: str | None = None,
        app_id: strawberry.ID | None = None,
    ) -> bool:
        device = await perms.authenticated_device(info, device_token)
        channel = await resolve_channel(info, channel_id, name, app_id, create_public=False)
        return await service.unsubscribe(device["id"], channel["id"])

    @strawberry.mutation(
        description="The app removes a device from a channel; for a private channel this also "
        "withdraws the device's access to it."
    )
    async def delete_subscription(self, info: Info, id: strawberry.ID) -> bool:
        sub, channel, _ = await perms.administered_subscription(info, id)
        await service.delete_subscription(sub, channel)
        return True

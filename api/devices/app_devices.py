"""Query.devices: an app's devices (those subscribed to any of its channels) for its owner or
its key, newest first, with their subscriptions to the app's channels. Filters are plain
optional arguments, so more (people, platforms) can join without breaking callers."""

from __future__ import annotations

from collections import defaultdict

import strawberry

from api.channels.tables import Channel as ChannelTable
from api.channels.tables import ChannelSubscription as SubscriptionTable
from api.channels.types import ChannelSubscription
from api.devices.keys import token_hint
from api.devices.tables import Device as DeviceTable
from api.devices.types import Device
from api.graphql import permissions as perms
from api.graphql.context import Info
from api.graphql.pagination import Page, PageInfo, decode_cursor, page_size
from api.people.tables import Person, PersonDevice

MAX_SEARCH = 256
WILDCARDS = set("%_\\")
HINT_LENGTH = len(token_hint("ExponentPushToken[abcdefghij]"))


SUBSCRIPTIONS_SHOWN = 20


@strawberry.type
class AppDevice:
    device: Device
    all_subscriptions: strawberry.Private[list[ChannelSubscription]]

    @strawberry.field(
        description="The device's subscriptions to this app's channels, oldest first, at most `first` "
        f"(default {SUBSCRIPTIONS_SHOWN}, at most 100); deleteSubscription removes one."
    )
    def subscriptions(self, first: int = SUBSCRIPTIONS_SHOWN) -> list[ChannelSubscription]:
        return self.all_subscriptions[: max(0, min(first, 100))]


@strawberry.type
class AppDeviceConnection:
    nodes: list[AppDevice]
    page_info: PageInfo


async def devices_page(
    app_id: int, first: int, before_id: int | None, search: str | None, active: bool | None
) -> list[dict]:
    app_channels = ChannelTable.select(ChannelTable.id).where(ChannelTable.app == app_id)
    subscribed = SubscriptionTable.select(SubscriptionTable.device).where(
        SubscriptionTable.channel.is_in(app_channels)
    )
    query = DeviceTable.select().where(DeviceTable.id.is_in(subscribed))
    if active is not None:
        query = query.where(DeviceTable.active == active)
    term = (search or "").strip()[:MAX_SEARCH]
    if term:
        # The identifier of the app's person the device belongs to (exact; api/people), or the
        # token hint (api/devices/keys.token_hint: the token's last characters, before an Expo
        # token's closing bracket). Never more of the token than the hint: a longer suffix
        # would let the app read tokens it did not register one guessed character at a time.
        # A term with LIKE wildcards matches identifiers only.
        person = Person.select(Person.id).where((Person.app == app_id) & (Person.identifier == term))
        match = DeviceTable.id.is_in(
            PersonDevice.select(PersonDevice.device).where(
                (PersonDevice.app == app_id) & PersonDevice.person.is_in(person)
            )
        )
        if not WILDCARDS & set(term) and len(term) <= HINT_LENGTH:
            match = match | DeviceTable.token.like(f"%{term}") | DeviceTable.token.like(f"%{term}]")
        query = query.where(match)
    if before_id is not None:
        query = query.where(DeviceTable.id < before_id)
    return await query.order_by(DeviceTable.id, ascending=False).limit(first + 1)


async def subscriptions_in_app(app_id: int, device_ids: list[int]) -> dict[int, list[dict]]:
    """One query for the whole page: each device's subscriptions to this app's channels."""
    if not device_ids:
        return {}
    rows = await SubscriptionTable.select().where(
        SubscriptionTable.device.is_in(device_ids)
        & SubscriptionTable.channel.is_in(
            ChannelTable.select(ChannelTable.id).where(ChannelTable.app == app_id)
        )
    ).order_by(SubscriptionTable.id)
    found: dict[int, list[dict]] = defaultdict(list)
    for r in rows:
        found[r["device"]].append(r)
    return found


@strawberry.type
class AppDevicesQuery:
    @strawberry.field(
        description="An app's devices (subscribed to any of its channels), newest first (owner or"
        " the app's key). search: the identifier of the person it belongs to, or the end of the token."
        " active: only live (true) or dead (false) devices."
    )
    async def devices(
        self,
        info: Info,
        app_id: strawberry.ID,
        search: str | None = None,
        active: bool | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> AppDeviceConnection:
        size = page_size(first, info.context.runtime.settings.max_page_size)
        before = decode_cursor(after)
        app, access = await perms.app_admin(info, app_id)
        page = Page(await devices_page(app["id"], size, before, search, active), size)
        subs = await subscriptions_in_app(app["id"], [r["id"] for r in page.rows])
        return AppDeviceConnection(
            nodes=[
                AppDevice(
                    device=Device(row=r, access=access),
                    all_subscriptions=[ChannelSubscription(row=s, access=access) for s in subs[r["id"]]],
                )
                for r in page.rows
            ],
            page_info=page.page_info,
        )

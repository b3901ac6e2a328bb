"""Engagement operations: channel settings, opens, edits and retractions, preferences."""

from __future__ import annotations

import strawberry

from api.apps.types import App
from api.channels import service as channels
from api.channels.types import Channel
from api.engagement import caps, channel_settings, edits, opens, preferences
from api.engagement.types import PreferencesInput, UpdateNotificationInput
from api.errors import BadUserInput
from api.graphql import permissions as perms
from api.graphql.context import Info
from api.ids import parse_id
from api.notifications.resolvers import administered_notification
from api.notifications.types import Notification
from api.people import service as people
from api.people.types import Preferences, QuietHours


async def _preferences_owner(
    info: Info, app_id: strawberry.ID, identifier: str | None, device_token: str | None
) -> tuple[preferences.Owner, perms.Access]:
    """identifier: the app's owner or key names a person; deviceToken: the device itself (its key),
    speaking for its person of the app if it has one."""
    if (identifier is None) == (device_token is None):
        raise BadUserInput("pass exactly one of identifier and deviceToken")
    if identifier is not None:
        app, access = await perms.app_admin(info, app_id)
        person = await people.require(app["id"], identifier)
        return preferences.Owner(app["id"], person=person["id"]), access
    device = await perms.authenticated_device(info, device_token)  # type: ignore[arg-type]
    owner = await preferences.owner_for_device(parse_id(app_id, "app"), device["id"])
    return owner, perms.Access("device", device_id=device["id"])


async def preferences_view(settings: preferences.Settings, access: perms.Access) -> Preferences:
    muted = settings.muted
    if access.role == "device" and muted:
        # A device sees the private channels it was given, no others, even muted for its person.
        visible = await preferences.visible_to_device(access.device_id, muted)
        muted = [c for c in muted if c in visible]
    rows = await channels.channels_by_ids(muted) if muted else []
    quiet = settings.quiet
    return Preferences(
        muted_channels=[Channel(row=r, access=access) for r in rows if r is not None],
        quiet_hours=QuietHours(start=quiet.start, end=quiet.end, time_zone=quiet.time_zone) if quiet else None,
    )


@strawberry.type
class EngagementQuery:
    @strawberry.field(description="Muted channels and quiet hours of a person of the app (identifier: its owner "
                      "or key) or of a device (deviceToken with its key: its person's, else its own).")
    async def preferences(
        self, info: Info, app_id: strawberry.ID, identifier: str | None = None, device_token: str | None = None
    ) -> Preferences:
        owner, access = await _preferences_owner(info, app_id, identifier, device_token)
        return await preferences_view(await preferences.get(owner), access)


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

    @strawberry.mutation(
        description="The device (with its key) reports that its user opened a notification pushed to it: "
        "recorded once (Delivery.openedAt), counted, and sent as the webhook notification.clicked. "
        "True when recorded now, false when recorded before."
    )
    async def mark_opened(self, info: Info, device_token: str, notification_id: strawberry.ID) -> bool:
        device = await perms.authenticated_device(info, device_token)
        nid = parse_id(notification_id, "notification")
        return await opens.mark_opened(info.context.runtime, device["id"], nid)

    @strawberry.mutation(
        description="Correct a notification (the app's owner or key): the inbox shows the new version, live "
        "subscribers get it, and devices it reached get a replacement with the same collapse id."
    )
    async def update_notification(self, info: Info, id: strawberry.ID, input: UpdateNotificationInput) -> Notification:
        row, access = await administered_notification(info, id)
        (channel,) = await channels.channels_by_ids([row["channel"]]) if row["channel"] is not None else (None,)
        updated = await edits.update_notification(
            info.context.runtime, row, channel["name"] if channel else "",
            title=input.title, body=input.body, data=input.data, spend=lambda: _spend_a_send(info, row),
        )
        return Notification(row=updated, access=access)

    @strawberry.mutation(
        description="Take a notification back (the app's owner or key): RETRACTED, gone from inboxes, its unsent "
        "deliveries SKIPPED (reason Retracted), and a data-only push tells the devices it reached to remove it."
    )
    async def retract_notification(self, info: Info, id: strawberry.ID) -> Notification:
        row, access = await administered_notification(info, id)
        retracted = await edits.retract_notification(info.context.runtime, row, spend=lambda: _spend_a_send(info, row))
        return Notification(row=retracted, access=access)

    @strawberry.mutation(
        description="Set muted channels (of the app) and quiet hours (HH:MM to HH:MM in an IANA time zone): for "
        "a person (identifier: the app's owner or key) or by the device itself (deviceToken with its key)."
    )
    async def set_preferences(
        self,
        info: Info,
        app_id: strawberry.ID,
        input: PreferencesInput,
        identifier: str | None = None,
        device_token: str | None = None,
    ) -> Preferences:
        owner, access = await _preferences_owner(info, app_id, identifier, device_token)
        muted = input.muted_channel_ids
        if muted is not strawberry.UNSET and muted is not None:
            muted = [parse_id(c, "channel") for c in muted]
        settings = await preferences.set_preferences(owner, muted_channel_ids=muted, quiet=input.quiet_hours,
                                                     seen_by_device=access.device_id)
        return await preferences_view(settings, access)

    @strawberry.mutation(
        description="Pushes per person (or device of no person) per hour for the app (owner or key); more are "
        "HELD (reason Capped) and go out as one digest when the hour frees up. null: the server's default "
        "(BOOPER_PERSON_HOURLY_CAP)."
    )
    async def set_person_hourly_cap(
        self, info: Info, app_id: strawberry.ID, cap: int | None = strawberry.UNSET
    ) -> App:
        if cap is strawberry.UNSET:  # null is a value here (the default cap): leaving it out is not
            raise BadUserInput("pass cap: a number of pushes per hour, or null for the server's default")
        app, access = await perms.app_admin(info, app_id)
        return App(row=await caps.set_cap(app["id"], cap), access=access)


async def _spend_a_send(info: Info, notification: dict) -> None:
    """An edit or a retraction pushes to every device the notification reached, as a send does:
    it takes its unit of the app's send rate (BOOPER_APP_RATE), or any number of them in a loop
    would push without end. Only once it is known to push: a refused one (invalid, canceled,
    already retracted) costs nothing."""
    runtime = info.context.runtime
    if notification["app"] is not None:
        await runtime.limiter.hit(runtime.settings.app_rate, "app", str(notification["app"]),
                                  message="this app sends (edits, retractions) too fast")

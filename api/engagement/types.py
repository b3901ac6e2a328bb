"""GraphQL types of engagement: display options of a send, and what a notification shows of them."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry

from api.graphql.scalars import JSON


@strawberry.enum(description="Expo's interruptionLevel (iOS 15+): how a notification may interrupt.")
class InterruptionLevel(Enum):
    ACTIVE = "ACTIVE"
    CRITICAL = "CRITICAL"
    PASSIVE = "PASSIVE"
    TIME_SENSITIVE = "TIME_SENSITIVE"


@strawberry.input(description="How Expo shows the notification (ignored by Web Push).")
class ExpoOptionsInput:
    subtitle: str | None = strawberry.field(default=None, description="iOS; at most 256 characters.")
    sound: str | None = strawberry.field(default=None, description='"default" or a bundled sound file name.')
    channel_id: str | None = strawberry.field(default=None, description="The Android notification channel.")
    category_id: str | None = strawberry.field(default=None, description="A notification category (its buttons).")
    interruption_level: InterruptionLevel | None = None
    mutable_content: bool | None = strawberry.field(default=None, description="iOS: a service extension may change it.")


@strawberry.input(description="What updateNotification changes: a field left out stays, null clears it.")
class UpdateNotificationInput:
    title: str | None = strawberry.UNSET
    body: str | None = strawberry.UNSET
    data: JSON | None = strawberry.UNSET


@strawberry.input
class WebPushActionInput:
    action: str = strawberry.field(description="Reported to the service worker's notificationclick.")
    title: str


@strawberry.input(description="How a browser shows the notification (ignored by Expo).")
class WebPushOptionsInput:
    icon: str | None = strawberry.field(default=None, description="An https URL.")
    tag: str | None = strawberry.field(default=None, description="A later notification with the same tag replaces it.")
    actions: list[WebPushActionInput] | None = strawberry.field(default=None, description="At most 2.")


@strawberry.type
class ExpoOptions:
    subtitle: str | None
    sound: str | None
    channel_id: str | None
    category_id: str | None
    interruption_level: InterruptionLevel | None
    mutable_content: bool | None

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> ExpoOptions:
        from api.engagement.presentation import INTERRUPTION_LEVELS

        level = {v: k for k, v in INTERRUPTION_LEVELS.items()}.get(stored.get("interruptionLevel"))
        return cls(
            subtitle=stored.get("subtitle"), sound=stored.get("sound"), channel_id=stored.get("channelId"),
            category_id=stored.get("categoryId"), interruption_level=InterruptionLevel(level) if level else None,
            mutable_content=stored.get("mutableContent"),
        )


@strawberry.type
class WebPushAction:
    action: str
    title: str


@strawberry.type
class WebPushOptions:
    icon: str | None
    tag: str | None
    actions: list[WebPushAction]

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> WebPushOptions:
        return cls(icon=stored.get("icon"), tag=stored.get("tag"),
                   actions=[WebPushAction(**a) for a in stored.get("actions", [])])


@strawberry.input
class QuietHoursInput:
    start: str = strawberry.field(description='"22:00": local time of timeZone, HH:MM.')
    end: str = strawberry.field(description='"07:00"; before start means the window crosses midnight.')
    time_zone: str = strawberry.field(description='IANA name, e.g. "Europe/Berlin".')


@strawberry.input(description="What setPreferences changes: a field left out stays, null clears it.")
class PreferencesInput:
    muted_channel_ids: list[strawberry.ID] | None = strawberry.UNSET
    quiet_hours: QuietHoursInput | None = strawberry.UNSET

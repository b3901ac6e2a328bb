"""How a notification is shown and opened: tap URL, image, badge, and the Expo and Web Push
display options of sendNotification, validated once and stored on the notification as one
compact JSON object (only what was given), then carried into each provider's payload.

Kept apart from the payload builders (api/delivery/payload.py) so a notification without any
of these fields produces the very same bytes as before: nothing is added that was not asked for.
"""

from __future__ import annotations

import re
from typing import Any

from api.errors import BadUserInput

MAX_URL = 2048
MAX_BADGE = 99_999
MAX_TEXT = 256  # subtitle
MAX_NAME = 64  # sound, Android channel, category, tag, action ids and titles
MAX_ACTIONS = 2  # what Chrome shows (Notification.maxActions); Safari and Firefox show fewer or none
# Expo's interruptionLevel values (iOS 15's UNNotificationInterruptionLevel), by GraphQL enum name.
INTERRUPTION_LEVELS = {"ACTIVE": "active", "CRITICAL": "critical", "PASSIVE": "passive",
                       "TIME_SENSITIVE": "time-sensitive"}
_SOUND = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_HOST = re.compile(r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/|$|\?|#)")


def _https_url(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) > MAX_URL or not _HOST.match(value) or any(c.isspace() for c in value):
        raise BadUserInput(f"{name} must be an https URL of at most {MAX_URL} characters")
    return value


def _name(name: str, value: str | None, limit: int = MAX_NAME) -> str | None:
    if value is not None and not 1 <= len(value) <= limit:
        raise BadUserInput(f"{name} must have 1-{limit} characters")
    return value


def build(url: str | None, image: str | None, badge: int | None, expo: Any, web_push: Any) -> dict | None:
    """The stored presentation (None when nothing was given); BAD_USER_INPUT on the first bad
    field. `expo` and `web_push` are the input objects of api/engagement/types.py, or None."""
    if badge is not None and not 0 <= badge <= MAX_BADGE:
        raise BadUserInput(f"badge must be between 0 and {MAX_BADGE}")
    found = {
        "url": _https_url("url", url),
        "image": _https_url("image", image),
        "badge": badge,
        "expo": _expo_options(expo) if expo is not None else None,
        "webPush": _web_push_options(web_push) if web_push is not None else None,
    }
    compact = {k: v for k, v in found.items() if v is not None and v != {}}
    return compact or None


def _expo_options(expo: Any) -> dict[str, Any]:
    if expo.sound is not None and not _SOUND.match(expo.sound):
        raise BadUserInput("expo.sound must be 'default' or a sound file name (letters, digits, '.', '_', '-')")
    level = expo.interruption_level
    options = {
        "subtitle": _name("expo.subtitle", expo.subtitle, MAX_TEXT),
        "sound": expo.sound,
        "channelId": _name("expo.channelId", expo.channel_id),
        "categoryId": _name("expo.categoryId", expo.category_id),
        "interruptionLevel": INTERRUPTION_LEVELS[level.value] if level is not None else None,
        "mutableContent": expo.mutable_content,
    }
    return {k: v for k, v in options.items() if v is not None}


def _web_push_options(web_push: Any) -> dict[str, Any]:
    actions = web_push.actions
    if actions is not None and len(actions) > MAX_ACTIONS:
        raise BadUserInput(f"webPush.actions may have at most {MAX_ACTIONS} actions")
    options = {
        "icon": _https_url("webPush.icon", web_push.icon),
        "tag": _name("webPush.tag", web_push.tag),
        "actions": [
            {"action": _name("webPush.actions.action", a.action), "title": _name("webPush.actions.title", a.title)}
            for a in actions
        ] if actions else None,
    }
    return {k: v for k, v in options.items() if v is not None}


def expo_fields(presentation: dict | None, message: dict[str, Any]) -> dict[str, Any]:
    """Add the presentation to an Expo message (a new dict; the tap URL goes in data.url, where
    expo-router and most apps' response listeners look for it)."""
    if not presentation:
        return message
    message = dict(message)
    if "url" in presentation:
        message["data"] = {**(message.get("data") or {}), "url": presentation["url"]}
    if "image" in presentation:
        message["richContent"] = {"image": presentation["image"]}
    if "badge" in presentation:
        message["badge"] = presentation["badge"]
    message.update(presentation.get("expo", {}))
    return message


def web_push_fields(presentation: dict | None) -> dict[str, Any]:
    """What the service worker reads beside id, title and body: url (to open on click), image,
    icon, badge (a count, for navigator.setAppBadge), tag and actions."""
    if not presentation:
        return {}
    fields = {k: presentation[k] for k in ("url", "image", "badge") if k in presentation}
    fields.update(presentation.get("webPush", {}))
    return fields


def breaks_through(presentation: dict | None) -> bool:
    """An iOS interruption level that breaks through Focus or silence: the app's own sends only."""
    level = ((presentation or {}).get("expo") or {}).get("interruptionLevel")
    return level in ("critical", "time-sensitive")

"""What a notification looks like on the wire, and the size limits it must respect.

Checked at sendNotification time so that an oversize notification is refused
with PAYLOAD_TOO_LARGE before anything is written, not discovered per device.
"""

from __future__ import annotations

from typing import Any

import orjson

from api.delivery import native_payload
from api.engagement import presentation
from api.providers.expo import build_message
from api.providers.webpush import topic_from_collapse_key

EXPO_MAX_BYTES = 4096  # Expo: the whole notification payload
WEBPUSH_MAX_PLAINTEXT = 3993  # 4,096 bytes on the wire minus aes128gcm framing (RFC 8291)
# A long Expo token, so the size check holds for every device that may receive it.
_PROBE_TOKEN = "ExponentPushToken[" + "x" * 64 + "]"

EXPO_PRIORITY = {"DEFAULT": "default", "NORMAL": "normal", "HIGH": "high"}
WEBPUSH_URGENCY = {"DEFAULT": "normal", "NORMAL": "normal", "HIGH": "high"}


def expo_message(token: str, n: dict[str, Any]) -> dict[str, Any]:
    data = dict(n["data"] or {})  # validated as an object (or absent) at send time
    data.setdefault("notificationId", str(n["id"]))
    message = build_message(
        token,
        title=n["title"],
        body=n["body"],
        data=data,
        priority=EXPO_PRIORITY[n["priority"]],
        ttl=n["ttl"],
        collapse_id=n["collapse_key"],
        sound="default",
    )
    return presentation.expo_fields(n.get("presentation"), message)


class ExpoMessages:
    """expo_message for a batch: each notification's message is built once (the SDK's field
    mapping and the presentation's fields), and each device gets a copy with its token. Tokens
    were checked when their devices registered."""

    def __init__(self) -> None:
        self._built: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}

    def __call__(self, token: str, n: dict[str, Any]) -> dict[str, Any]:
        built = self._built.get(id(n))
        if built is None or built[0] is not n:  # keyed by identity: a batch shares its note variants
            built = self._built[id(n)] = (n, expo_message(_PROBE_TOKEN, n))
        return {**built[1], "to": token}


def webpush_payload(n: dict[str, Any], channel_name: str) -> bytes:
    return orjson.dumps(
        {
            "id": str(n["id"]),
            "channel": channel_name,
            "title": n["title"],
            "body": n["body"],
            "data": n["data"],
            **presentation.web_push_fields(n.get("presentation")),
        }
    )


def webpush_topic(n: dict[str, Any]) -> str | None:
    return topic_from_collapse_key(n["collapse_key"]) if n["collapse_key"] else None


def oversize(n: dict[str, Any], channel_name: str) -> str | None:
    """Why this notification cannot be sent as is, or None when it fits every transport."""
    probe = dict(n, id=2**62)
    expo_bytes = len(orjson.dumps(expo_message(_PROBE_TOKEN, probe)))
    if expo_bytes > EXPO_MAX_BYTES:
        return f"the Expo payload would be {expo_bytes} bytes; the limit is {EXPO_MAX_BYTES}"
    web_bytes = len(webpush_payload(probe, channel_name))
    if web_bytes > WEBPUSH_MAX_PLAINTEXT:
        return f"the Web Push payload would be {web_bytes} bytes; the limit is {WEBPUSH_MAX_PLAINTEXT}"
    declarative = len(native_payload.declarative_webpush_payload(probe, channel_name))
    if declarative > WEBPUSH_MAX_PLAINTEXT:
        return f"the Web Push payload would be {declarative} bytes; the limit is {WEBPUSH_MAX_PLAINTEXT}"
    return native_payload.oversize(probe, channel_name, EXPO_MAX_BYTES)

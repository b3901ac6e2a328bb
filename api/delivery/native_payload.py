"""FCM, APNs and Declarative Web Push payloads of a notification (Expo and classic Web Push:
api/delivery/payload.py). Each transport has a 4 KB budget, checked at send time (payload.oversize)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import orjson

from api.providers.apns import ApnsRequest, collapse_id

FCM_PRIORITY = {"DEFAULT": "HIGH", "NORMAL": "NORMAL", "HIGH": "HIGH"}
APNS_PRIORITY = {"DEFAULT": 10, "NORMAL": 5, "HIGH": 10}
_PROBE_FCM_TOKEN = "f" * 200
_PROBE_APNS_TOKEN = "a" * 64


def _presentation(n: dict[str, Any]) -> dict[str, Any]:
    """Tap URL, image, badge, ... (api/engagement/presentation.py), when the sender gave any."""
    return n.get("presentation") or {}


def _data(n: dict[str, Any]) -> dict[str, Any]:
    data = dict(n["data"] or {})
    if n["id"]:  # 0: a push outside any notification (a device verification code)
        data.setdefault("notificationId", str(n["id"]))
    if "url" in _presentation(n):  # where apps' tap handlers look for it, as with Expo
        data["url"] = _presentation(n)["url"]
    return data


def fcm_message(token: str, n: dict[str, Any]) -> dict[str, Any]:
    """An FCM v1 `message`. FCM's data values must be strings: others go as JSON text."""
    data = {k: v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in _data(n).items()}
    android: dict[str, Any] = {"priority": FCM_PRIORITY[n["priority"]]}
    if n["ttl"] is not None:
        android["ttl"] = f"{int(n['ttl'])}s"
    if n["collapse_key"]:
        android["collapse_key"] = n["collapse_key"]
    message: dict[str, Any] = {"token": token, "data": data, "android": android}
    notification = {k: n[k] for k in ("title", "body") if n[k]}
    if notification:  # no title and no body: a data message, for the app to handle silently
        if "image" in _presentation(n):
            notification["image"] = _presentation(n)["image"]
        message["notification"] = notification
    return message


def variant(n: dict[str, Any]) -> tuple:
    """What makes one delivery's payload of a notification differ from another's: its badge and its
    digest (with_digests); deliveries with the same variant share the payload's bytes."""
    return n["id"], (n.get("presentation") or {}).get("badge"), n.get("digest_count")


def fcm_body_around_token(n: dict[str, Any]) -> tuple[bytes, bytes]:
    """messages:send's JSON body for this notification, in two parts: head + the token's JSON +
    tail is orjson.dumps({"message": fcm_message(token, n)}), built once for a whole batch."""
    message = fcm_message("", n)
    del message["token"]  # the first key: it goes between the two parts
    rest = orjson.dumps({"message": message})  # {"message":{"data":...,"android":...}}
    head = b'{"message":{"token":'
    return head, b"," + rest[len(b'{"message":{'):]


def apns_request(token: str, n: dict[str, Any], topic: str, *, now: float | None = None) -> ApnsRequest:
    """An alert push, or a background push (content-available, priority 5) without title and body."""
    alert = {k: n[k] for k in ("title", "body") if n[k]}
    aps: dict[str, Any] = {"alert": alert, "sound": "default"} if alert else {"content-available": 1}
    if "badge" in _presentation(n):
        aps["badge"] = _presentation(n)["badge"]
    payload = {"aps": aps, "data": _data(n)}
    ttl = n["ttl"]
    expiration = None if ttl is None else (0 if ttl == 0 else int((now or time.time()) + ttl))
    return ApnsRequest(
        device_token=token, payload=orjson.dumps(payload), topic=topic,
        push_type="alert" if alert else "background",
        priority=APNS_PRIORITY[n["priority"]] if alert else 5,
        expiration=expiration, collapse_id=collapse_id(n["collapse_key"]),
    )


def takes_declarative(endpoint: str, hosts: str) -> bool:
    """Safari's push service (BOOPER_WEBPUSH_DECLARATIVE_HOSTS, comma-separated) shows Declarative
    Web Push (Safari 18.4+) without a service worker."""
    host = (urlsplit(endpoint).hostname or "").lower()
    return host in {h.strip().lower() for h in hosts.split(",") if h.strip()}


def declarative_webpush_payload(n: dict[str, Any], channel_name: str) -> bytes:
    """{"web_push": 8030, "notification": {...}, "mutable": true}: shown by the browser as is, and
    `mutable` lets a service worker, where there is one, still adjust it. `navigate` is the
    notification's tap URL (url, else data.url), `app_badge` its badge."""
    data = _data(n)
    shown = _presentation(n)
    notification: dict[str, Any] = {"title": n["title"] or channel_name or "Notification", "data": data}
    if n["body"]:
        notification["body"] = n["body"]
    if isinstance(data.get("url"), str):
        notification["navigate"] = data["url"]
    tag = shown.get("webPush", {}).get("tag") or n["collapse_key"]
    if tag:
        notification["tag"] = tag
    if "image" in shown:
        notification["image"] = shown["image"]
    payload: dict[str, Any] = {"web_push": 8030, "notification": notification, "mutable": True}
    if "badge" in shown:
        payload["app_badge"] = shown["badge"]
    return orjson.dumps(payload)


def oversize(probe: dict[str, Any], channel_name: str, limit: int) -> str | None:
    """Why the FCM, APNs or declarative payload of this notification would exceed `limit` bytes."""
    message = fcm_message(_PROBE_FCM_TOKEN, probe)
    # FCM's 4 KB is the message's content (notification and data), not the token or options.
    fcm = len(orjson.dumps({k: message[k] for k in ("notification", "data") if k in message}))
    if fcm > limit:
        return f"the FCM payload would be {fcm} bytes; the limit is {limit}"
    apns = len(apns_request(_PROBE_APNS_TOKEN, probe, "topic").payload)
    if apns > limit:
        return f"the APNs payload would be {apns} bytes; the limit is {limit}"
    return None

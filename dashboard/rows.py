"""API objects turned into the flat string rows the pages show (Reflex vars are plain data)."""

from __future__ import annotations

from typing import Any

from dashboard import forms

FINAL_NOTIFICATION = {"COMPLETED", "CANCELED", "RETRACTED"}
COUNTS = ("pending", "sent", "delivered", "failed", "held", "skipped", "opened")


def _s(value: Any, empty: str = "") -> str:
    return empty if value is None else str(value)


def _counts(counts: dict[str, Any] | None) -> dict[str, str]:
    counts = counts or {}
    return {k: str(int(counts.get(k) or 0)) for k in COUNTS}


# Why a delivery is HELD or SKIPPED (Delivery.reason), in words.
REASON_LABELS = {
    "QuietHours": "quiet hours",
    "Digest": "waiting for its digest",
    "Capped": "over the hourly cap",
    "Muted": "channel muted",
    "Digested": "merged into a digest",
    "ReadElsewhere": "read on another device",
    "Retracted": "retracted",
}


def reason_rows(reasons: list[dict[str, Any]] | None) -> list[dict[str, str]]:
    """Notification.deliveryReasons as labelled counts: "1 held: quiet hours (QuietHours)"."""
    return [
        {
            "status": _s(r.get("status")),
            "reason": _s(r.get("reason")) or "unknown",
            "label": REASON_LABELS.get(_s(r.get("reason")), _s(r.get("reason")) or "no reason given"),
            "count": _s(r.get("count"), "0"),
        }
        for r in reasons or []
    ]


def notification_row(n: dict[str, Any]) -> dict[str, str]:
    counts = _counts(n.get("deliveryCounts"))
    title = (n.get("title") or "").strip()
    body = (n.get("body") or "").strip()
    channel = n.get("channel") or {}
    return {
        "id": _s(n.get("id")),
        "title": title or body[:60] or "(no title)",
        "body": body,
        "status": _s(n.get("status"), "QUEUED"),
        "priority": _s(n.get("priority"), "DEFAULT"),
        "channel": _s(channel.get("name"), "—"),
        "channel_id": _s(channel.get("id")),
        "created": forms.format_time(n.get("createdAt")),
        "created_ago": forms.format_ago(n.get("createdAt")),
        "send_at": forms.format_time(n.get("sendAt"), ""),
        "sent_at": forms.format_time(n.get("sentAt"), ""),
        **{f"n_{k}": v for k, v in counts.items()},
    }


def delivery_row(d: dict[str, Any]) -> dict[str, str]:
    device = d.get("device") or {}
    notification = d.get("notification") or {}
    return {
        "id": _s(d.get("id")),
        "status": _s(d.get("status"), "PENDING"),
        "attempts": _s(d.get("attempts"), "0"),
        "error": _s(d.get("error"), ""),
        "reason": _s(d.get("reason"), ""),
        "opened": "yes" if d.get("openedAt") else "",
        "ticket": _s(d.get("ticketId"), ""),
        "updated": forms.format_time(d.get("updatedAt")),
        "platform": _s(device.get("platform"), "—"),
        "device": forms.short_token(device.get("token"), 40, device.get("tokenHint")),
        "identifier": _s(device.get("identifier"), ""),
        "notification_id": _s(notification.get("id")),
        "notification_title": _s(notification.get("title"), "") or "(no title)",
    }

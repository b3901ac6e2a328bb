"""Typed rows of the ledger: what the send path passes around instead of bare dicts."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypedDict


class NotificationRow(TypedDict):
    id: int
    app: int | None
    channel: int | None  # null for a direct send
    title: str | None
    body: str | None
    data: Any
    priority: str
    collapse_key: str | None
    ttl: int | None
    status: str
    send_at: dt.datetime | None
    created_at: dt.datetime
    sent_at: dt.datetime | None
    completed_at: dt.datetime | None
    archived_at: dt.datetime | None
    idempotency_scope: str | None
    idempotency_key: str | None
    fanout_cursor: int
    fanout_cursor_device: int
    fanout_done: bool
    kicked_at: dt.datetime | None
    critical: bool
    presentation: dict[str, Any] | None  # api/engagement/presentation.py


class DeliveryRow(TypedDict):
    id: int
    notification: int
    device: int
    platform: str
    status: str
    attempts: int
    error: str | None
    ticket_id: str | None
    next_attempt_at: dt.datetime | None
    lease_until: dt.datetime | None
    sent_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    opened_at: dt.datetime | None
    person: int | None
    reason: str | None


class DeviceRow(TypedDict):
    id: int
    platform: str
    token: str
    p256dh: str | None
    auth: str | None
    identifier: str | None  # unused since people (person_devices holds a device's persons)
    active: bool
    inactive_reason: str | None
    created_at: dt.datetime
    last_seen_at: dt.datetime | None
    key_hash: str | None
    verification_hash: str | None
    verification_expires_at: dt.datetime | None
    verification_attempts: int

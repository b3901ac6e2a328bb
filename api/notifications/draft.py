"""A notification before it is written: built once from the input, then validated, size-checked
and inserted as is (instead of its fields written out at every step)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from api.delivery import payload
from api.errors import BadUserInput, PayloadTooLarge

MAX_TTL = 28 * 24 * 3600  # the longest any push service keeps a message
MAX_SCHEDULE_AHEAD = dt.timedelta(days=365)
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")
MAX_DIRECT_TARGETS = 1000  # persons or devices per send: checked as the targets are resolved


@dataclass
class Draft:
    title: str | None = None
    body: str | None = None
    data: Any = None
    priority: str = "DEFAULT"
    collapse_key: str | None = None
    ttl: int | None = None
    send_at: dt.datetime | None = None
    idempotency_key: str | None = None
    critical: bool = False
    # How it is shown and opened, validated already (api/engagement/presentation.py); its
    # badge, if given, wins over each person's unread count.
    presentation: dict | None = None
    # Exactly one target: a channel (its row), persons of the app, or devices of the app.
    channel: dict | None = None
    identifiers: list[str] = field(default_factory=list)
    device_ids: list[int] = field(default_factory=list)

    @property
    def direct(self) -> bool:
        return self.channel is None

    def validate(self, now: dt.datetime) -> None:
        if self.title is None and self.body is None and self.data is None:
            raise BadUserInput("a notification needs a title, a body or data")
        if self.title is not None and len(self.title) > 1024:
            raise BadUserInput("title may have at most 1024 characters")
        if self.data is not None and not isinstance(self.data, dict):
            raise BadUserInput("data must be a JSON object")
        if self.collapse_key is not None and not 1 <= len(self.collapse_key) <= 64:
            raise BadUserInput("collapseKey must have 1-64 characters")
        if self.ttl is not None and not 0 <= self.ttl <= MAX_TTL:
            raise BadUserInput(f"ttl must be between 0 and {MAX_TTL} seconds")
        if self.send_at is not None and self.send_at - now > MAX_SCHEDULE_AHEAD:
            raise BadUserInput("sendAt may be at most a year ahead")
        if self.idempotency_key is not None and not IDEMPOTENCY_KEY.match(self.idempotency_key):
            raise BadUserInput("idempotencyKey must be 1-128 printable ASCII characters")

    def check_size(self) -> None:
        """PAYLOAD_TOO_LARGE before anything is written, not discovered per device."""
        # A recipient's unread-count badge is not counted here: it is added only where it fits
        # (api/people/reads.py), so the largest notification accepted stays what it was.
        probe = {
            "title": self.title, "body": self.body, "data": self.data, "priority": self.priority,
            "ttl": self.ttl, "collapse_key": self.collapse_key, "presentation": self.presentation,
        }
        if reason := payload.oversize(probe, self.channel["name"] if self.channel else ""):
            raise PayloadTooLarge(reason)

    def row_fields(self, app_id: int | None, scope: str, now: dt.datetime, *, anonymous: bool) -> dict[str, Any]:
        """The notifications row's columns. `anonymous`: no app sent it (anyone, to a public channel)."""
        scheduled = self.send_at is not None and self.send_at > now
        return {
            "app": app_id,
            "channel": self.channel["id"] if self.channel else None,
            "title": self.title,
            "body": self.body,
            "data": self.data,
            "priority": self.priority,
            "collapse_key": self.collapse_key,
            "ttl": self.ttl,
            "critical": self.critical,
            "presentation": self.presentation,
            "status": "SCHEDULED" if scheduled else "QUEUED",
            "send_at": self.send_at,
            "created_at": now,
            "kicked_at": None if scheduled else now,
            "idempotency_scope": scope if self.idempotency_key else None,
            "idempotency_key": self.idempotency_key,
            "anonymous": anonymous,
        }

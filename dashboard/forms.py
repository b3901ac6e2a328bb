"""Form validation and display formatting: pure functions, no Reflex, no I/O.

The dashboard checks what a person typed before it calls the API, so that the
common mistakes get an answer next to the field instead of a round trip; the
API validates again (its BAD_USER_INPUT errors are shown in words too).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from dashboard.people_forms import parse_device_ids, parse_identifiers

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CHANNEL_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
MIN_PASSWORD = 8
MAX_APP_NAME = 100
MAX_COLLAPSE_KEY = 64
MAX_TTL = 28 * 24 * 3600  # Web Push services keep a message at most about four weeks
MAX_IDENTIFIER = 200
PRIORITIES = ("DEFAULT", "NORMAL", "HIGH")
VISIBILITIES = ("PUBLIC", "PRIVATE")
# Push providers take about 4 KB; the API has the last word (PAYLOAD_TOO_LARGE).
MAX_PAYLOAD_BYTES = 4096


def validate_email(email: str) -> str | None:
    email = (email or "").strip()
    if not email:
        return "Enter your email address."
    if len(email) > 254 or not EMAIL_RE.match(email):
        return "That doesn't look like an email address."
    return None


def validate_password(password: str, *, new: bool = False) -> str | None:
    if not password:
        return "Enter your password."
    if new and len(password) < MIN_PASSWORD:
        return f"Use at least {MIN_PASSWORD} characters."
    if len(password) > 1024:
        return "That password is too long."
    return None


def validate_app_name(name: str) -> str | None:
    name = (name or "").strip()
    if not name:
        return "Give the app a name."
    if len(name) > MAX_APP_NAME:
        return f"Keep the name under {MAX_APP_NAME} characters."
    return None


def validate_channel_name(name: str) -> str | None:
    name = (name or "").strip()
    if not name:
        return "Give the channel a name."
    if len(name) > 64:
        return "Channel names are at most 64 characters."
    if not CHANNEL_NAME_RE.match(name):
        return "Use only letters, digits, '-', '_' and '.' (no spaces)."
    return None


def validate_identifier(identifier: str) -> str | None:
    if identifier and len(identifier.strip()) > MAX_IDENTIFIER:
        return f"Keep the identifier under {MAX_IDENTIFIER} characters."
    return None


def parse_json_data(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """The notification's data field: empty, or a JSON object."""
    text = (text or "").strip()
    if not text:
        return None, None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
    if not isinstance(value, dict):
        return None, 'Data must be a JSON object, like {"orderId": 42}.'
    return value, None


def parse_ttl(text: str) -> tuple[int | None, str | None]:
    text = (text or "").strip()
    if not text:
        return None, None
    try:
        ttl = int(text)
    except ValueError:
        return None, "TTL is a whole number of seconds."
    if ttl < 0:
        return None, "TTL can't be negative."
    if ttl > MAX_TTL:
        return None, f"TTL is at most {MAX_TTL} seconds (28 days)."
    return ttl, None


def parse_schedule(
    text: str, tz_offset_minutes: int = 0, now: datetime | None = None
) -> tuple[str | None, str | None]:
    """A browser ``datetime-local`` value as an ISO 8601 UTC instant.

    ``tz_offset_minutes`` is what the browser's ``Date.getTimezoneOffset()``
    says (minutes to add to local time to get UTC).
    """
    text = (text or "").strip()
    if not text:
        return None, None
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        return None, "Pick a date and time."
    if local.tzinfo is None:
        instant = (local + timedelta(minutes=tz_offset_minutes)).replace(tzinfo=UTC)
    else:
        instant = local.astimezone(UTC)
    now = now or datetime.now(UTC)
    if instant <= now:
        return None, "The schedule time must be in the future."
    if instant > now + timedelta(days=365):
        return None, "Schedule at most a year ahead."
    return instant.isoformat().replace("+00:00", "Z"), None


@dataclass
class SendForm:
    channel_id: str = ""
    title: str = ""
    body: str = ""
    data: str = ""
    priority: str = "DEFAULT"
    collapse_key: str = ""
    ttl: str = ""
    send_at: str = ""
    tz_offset_minutes: int = 0
    # Whom it goes to: "channel" (channel_id), "people" (identifiers) or "devices" (device_ids),
    # the last two as typed (comma or newline separated), for the app app_id (sent with a channel
    # too: the API refuses another app's channel then, the one a stale page might still offer).
    target: str = "channel"
    identifiers: str = ""
    device_ids: str = ""
    app_id: str = ""


@dataclass
class SendCheck:
    payload: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def check_send_form(form: SendForm, now: datetime | None = None) -> SendCheck:
    """Validate the send form; the SendNotificationInput, or errors per field."""
    check = SendCheck()
    _check_target(form, check)
    title, body = form.title.strip(), form.body.strip()
    data, data_error = parse_json_data(form.data)
    if data_error:
        check.errors["data"] = data_error
    if not title and not body and data is None and not data_error:
        check.errors["body"] = "Write a title, a body or some data."
    if title:
        check.payload["title"] = title
    if body:
        check.payload["body"] = body
    if data is not None:
        check.payload["data"] = data
    if form.priority not in PRIORITIES:
        check.errors["priority"] = "Choose a priority."
    else:
        check.payload["priority"] = form.priority
    collapse = form.collapse_key.strip()
    if collapse:
        if len(collapse) > MAX_COLLAPSE_KEY:
            check.errors["collapse_key"] = (
                f"Keep the collapse key under {MAX_COLLAPSE_KEY} characters."
            )
        else:
            check.payload["collapseKey"] = collapse
    ttl, ttl_error = parse_ttl(form.ttl)
    if ttl_error:
        check.errors["ttl"] = ttl_error
    elif ttl is not None:
        check.payload["ttl"] = ttl
    send_at, when_error = parse_schedule(form.send_at, form.tz_offset_minutes, now)
    if when_error:
        check.errors["send_at"] = when_error
    elif send_at:
        check.payload["sendAt"] = send_at
    if not check.errors:
        _check_size(check)
    return check


def _check_target(form: SendForm, check: SendCheck) -> None:
    """One target: a channel, persons of the app, or devices of the app."""
    direct = DIRECT_TARGETS.get(form.target)
    if direct is not None:
        key, api_name, parse = direct
        items, problem = parse(getattr(form, key))
        if problem:
            check.errors[key] = problem
        else:
            check.payload[api_name] = items
            check.payload["appId"] = form.app_id
    elif not form.channel_id:
        check.errors["channel"] = "Choose a channel."
    else:
        check.payload["channelId"] = form.channel_id
        if form.app_id:
            check.payload["appId"] = form.app_id


# A direct send's target: (the form's field, the API's input field, its parser).
DIRECT_TARGETS = {
    "people": ("identifiers", "identifiers", parse_identifiers),
    "devices": ("device_ids", "deviceIds", parse_device_ids),
}


def _check_size(check: SendCheck) -> None:
    parts = {k: check.payload.get(k) for k in ("title", "body", "data")}
    size = len(json.dumps(parts).encode())
    if size > MAX_PAYLOAD_BYTES:
        # Under the field that takes the most room: the one to shorten.
        biggest = max(parts, key=lambda k: len(json.dumps(parts[k]).encode()))
        check.errors[biggest] = (
            f"Title, body and data come to {size} bytes; push providers accept at most "
            f"{MAX_PAYLOAD_BYTES}. Shorten this one."
        )


MAX_TITLE = 1024


def check_edit_form(title: str, body: str, data: str) -> SendCheck:
    """The edit of a sent notification: the UpdateNotificationInput (an emptied field is null,
    which clears it), or errors per field."""
    check = SendCheck()
    title, body = (title or "").strip(), (body or "").strip()
    value, data_error = parse_json_data(data)
    if data_error:
        check.errors["data"] = data_error
    elif not title and not body and value is None:
        check.errors["body"] = "Write a title, a body or some data."
    if len(title) > MAX_TITLE:
        check.errors["title"] = f"Keep the title under {MAX_TITLE} characters."
    check.payload = {"title": title or None, "body": body or None, "data": value}
    if not check.errors:
        _check_size(check)
    return check


# Channel digests: seconds (the API takes 5-86400; 0 turns them off), with presets.
DIGEST_PRESETS = {"off": 0, "1 min": 60, "5 min": 300, "15 min": 900, "1 h": 3600}
MIN_DIGEST, MAX_DIGEST = 5, 86400


def parse_digest_window(text: str) -> tuple[int | None, str | None]:
    text = (text or "").strip()
    if not text:
        return 0, None
    try:
        seconds = int(text)
    except ValueError:
        return None, "The digest window is a whole number of seconds."
    if seconds != 0 and not MIN_DIGEST <= seconds <= MAX_DIGEST:
        return None, f"Between {MIN_DIGEST} and {MAX_DIGEST:,} seconds (a day), or 0 for off."
    return seconds, None


def format_window(seconds: int | None) -> str:
    """A digest window for people: "off", "5 min", "1 h", "90 s"."""
    if not seconds:
        return "off"
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


# --------------------------------------------------------------------------
# JWT (read, never verified: the API verifies; the dashboard only needs `exp`)


def jwt_expiry(token: str) -> datetime | None:
    """The ``exp`` of a JWT, or None when there is none or it can't be read."""
    try:
        segment = token.split(".")[1]
        segment += "=" * (-len(segment) % 4)
        claims = json.loads(base64.urlsafe_b64decode(segment))
        exp = claims.get("exp")
        return datetime.fromtimestamp(float(exp), UTC) if exp is not None else None
    except (IndexError, ValueError, TypeError, AttributeError):
        return None


def jwt_expired(token: str, now: datetime | None = None, leeway: float = 5.0) -> bool:
    if not token:
        return True
    expiry = jwt_expiry(token)
    if expiry is None:
        return False  # unreadable: let the API decide
    now = now or datetime.now(UTC)
    return expiry <= now + timedelta(seconds=leeway)


# --------------------------------------------------------------------------
# Display


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_time(value: str | None, empty: str = "—") -> str:
    """An API timestamp as 'YYYY-MM-DD HH:MM:SS UTC'."""
    parsed = parse_time(value)
    if parsed is None:
        return empty
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def format_ago(value: str | None, now: datetime | None = None, empty: str = "never") -> str:
    parsed = parse_time(value)
    if parsed is None:
        return empty
    now = now or datetime.now(UTC)
    seconds = int((now - parsed).total_seconds())
    if seconds < 0:
        seconds = -seconds
        for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
            if seconds >= size:
                n = seconds // size
                return f"in {n} {unit}{'s' if n != 1 else ''}"
        return "in a moment"
    if seconds < 45:
        return "just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def format_countdown(seconds: int) -> str:
    if seconds <= 0:
        return "expired"
    minutes, secs = divmod(int(seconds), 60)
    if minutes >= 60:
        hours, minutes = divmod(minutes, 60)
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def short_token(token: str | None, keep: int = 28, hint: str | None = None) -> str:
    """A token shortened for a table cell; an app sees only a hint of tokens it did not register."""
    if not token:
        return f"…{hint}" if hint else "—"
    return token if len(token) <= keep else token[: keep - 1] + "…"


def format_quota(used: int, quota: int | None) -> str:
    if quota is None:
        return f"{used:,} / unlimited"
    return f"{used:,} / {quota:,}"


def quota_percent(used: int, quota: int | None) -> int:
    if not quota:
        return 0
    return max(0, min(100, round(100 * used / quota)))

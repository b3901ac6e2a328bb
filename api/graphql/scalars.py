"""The contract's DateTime and JSON scalars."""

from __future__ import annotations

import datetime as dt
from typing import Any, NewType

import strawberry


def _parse_datetime(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO 8601 string")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"invalid DateTime {value[:40]!r}: expected ISO 8601") from exc
    if parsed.tzinfo is None:
        raise ValueError("DateTime needs a timezone offset (e.g. 2026-01-01T12:00:00Z)")
    return parsed.astimezone(dt.UTC)


def _serialize_datetime(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


DateTime = strawberry.scalar(
    NewType("DateTime", dt.datetime),
    name="DateTime",
    description="An ISO 8601 date-time with a timezone, serialized in UTC.",
    serialize=_serialize_datetime,
    parse_value=_parse_datetime,
)

JSON = strawberry.scalar(
    NewType("JSON", object),
    name="JSON",
    description="Any JSON value.",
    serialize=lambda v: v,
    parse_value=lambda v: v,
)

JSONValue = Any

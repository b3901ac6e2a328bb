"""The contract's DateTime and JSON scalars."""

from __future__ import annotations

import datetime as dt
import math
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

# Integers Booper stores and returns exactly: a signed 64-bit range (what orjson, PostgreSQL's
# jsonb round trip through asyncpg and most clients' JSON readers agree on). Outside it, a value
# would come back as a float on some path: refused instead, on every path.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
MAX_JSON_DEPTH = 32
INT_RANGE = "integers in JSON values must be within the signed 64-bit range (-2^63 to 2^63-1)"


def _parse_json(value: object) -> object:
    """A JSON value as given, once it is shown storable: integers within 64 bits, finite numbers,
    at most MAX_JSON_DEPTH levels. Walked with a stack: a value nested thousands deep is refused,
    not a RecursionError."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise ValueError(f"JSON values may be nested at most {MAX_JSON_DEPTH} levels deep")
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
        elif isinstance(item, bool) or item is None or isinstance(item, str):
            continue
        elif isinstance(item, int):
            if not INT_MIN <= item <= INT_MAX:
                raise ValueError(INT_RANGE)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise ValueError("numbers in JSON values must be finite")
        else:
            raise ValueError(f"not a JSON value: {type(item).__name__}")
    return value


JSON = strawberry.scalar(
    NewType("JSON", object),
    name="JSON",
    description="Any JSON value. Integers must fit in a signed 64-bit range; at most 32 levels deep.",
    serialize=lambda v: v,
    parse_value=_parse_json,
)

JSONValue = Any

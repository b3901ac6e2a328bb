"""Relay-style keyset paging: opaque cursors over ids, newest first."""

from __future__ import annotations

import base64
import binascii
from typing import Generic, TypeVar

import strawberry

from api.errors import BadUserInput
from api.ids import parse_id

T = TypeVar("T")
MAX_CURSOR = 64


@strawberry.type
class PageInfo:
    end_cursor: str | None
    has_next_page: bool


def encode_cursor(row_id: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{row_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The row id a cursor of encode_cursor names; anything else (another version, digits that
    are not ASCII, an id no 64-bit key can hold) is the caller's mistake, refused before any query."""
    if cursor is None:
        return None
    try:
        # A cursor Booper wrote is short: "v1:" and at most 19 digits, base64url.
        if len(cursor) > MAX_CURSOR:
            raise ValueError
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, _, value = raw.partition(":")
        if version != "v1":
            raise ValueError
        return parse_id(value, "cursor")
    except (ValueError, binascii.Error, UnicodeDecodeError, BadUserInput):
        raise BadUserInput("malformed cursor: pass pageInfo.endCursor from a previous page") from None


def page_size(first: int, maximum: int) -> int:
    if not 1 <= first <= maximum:
        raise BadUserInput(f"first must be between 1 and {maximum}")
    return first


class Page(Generic[T]):
    """Rows fetched with limit first + 1: the extra row only tells whether there is a next page."""

    def __init__(self, rows: list[dict], first: int) -> None:
        self.rows = rows[:first]
        self.has_next = len(rows) > first

    @property
    def page_info(self) -> PageInfo:
        end = encode_cursor(self.rows[-1]["id"]) if self.rows else None
        return PageInfo(end_cursor=end, has_next_page=self.has_next)

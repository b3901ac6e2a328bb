"""Every failure talking to the API (a GraphQL error with an ``extensions.code``, an unreachable
API, a malformed answer) becomes one exception type carrying words a person understands."""

from __future__ import annotations

from typing import Any

# What each extensions.code means to a person using the dashboard.
ERROR_MESSAGES: dict[str, str] = {
    "UNAUTHENTICATED": "Your session has expired. Please log in again.",
    "FORBIDDEN": "You don't have permission to do that.",
    "NOT_FOUND": "We couldn't find that. It may have been deleted.",
    "BAD_USER_INPUT": "Please check what you entered.",
    "CONFLICT": "That already exists.",
    "RATE_LIMITED": "Too many requests right now. Please wait a moment and try again.",
    "QUOTA_EXCEEDED": (
        "This app has used up its daily notification quota. It resets at midnight UTC."
    ),
    "PAYLOAD_TOO_LARGE": (
        "This notification is too large: push providers accept at most 4 KB. Shorten the title, body or data."
    ),
    "INTERNAL_SERVER_ERROR": "Something went wrong on the server. Please try again.",
    "SERVICE_UNAVAILABLE": (
        "Booper's database or queue is not answering (restarting?). Please try again in a moment."
    ),
    "NETWORK": "Can't reach the Booper API. Check that it is running and try again.",
    "TIMEOUT": "The Booper API took too long to answer. Please try again.",
    "BAD_RESPONSE": "The Booper API gave an answer the dashboard doesn't understand.",
}

# Codes whose server message is written for the caller and worth showing.
# QUOTA_EXCEEDED's says which allowance ran out: the day's notifications, or the apps, channels
# or API keys one may hold.
_SHOW_SERVER_MESSAGE = {"BAD_USER_INPUT", "CONFLICT", "NOT_FOUND", "FORBIDDEN", "QUOTA_EXCEEDED"}
_MAX_DETAIL = 200


def _clean_detail(message: str | None) -> str:
    """A server message made safe to show: one line, short, no internals."""
    if not message:
        return ""
    text = " ".join(str(message).split())
    lowered = text.lower()
    if "traceback" in lowered or "exception" in lowered or text.startswith(("{", "[")):
        return ""
    if len(text) > _MAX_DETAIL:
        text = text[: _MAX_DETAIL - 1].rstrip() + "…"
    return text


def describe_error(code: str, message: str | None = None, retry_after: float | None = None) -> str:
    """Words for a person, for an error code from the API (or a transport failure)."""
    if code == "RATE_LIMITED":
        if retry_after is not None and retry_after > 0:
            seconds = max(1, round(retry_after))
            unit = "second" if seconds == 1 else "seconds"
            return f"Too many requests right now. Try again in {seconds} {unit}."
        return ERROR_MESSAGES["RATE_LIMITED"]
    base = ERROR_MESSAGES.get(code)
    detail = _clean_detail(message)
    if base is None:
        return (
            f"Something went wrong: {detail}"
            if detail
            else "Something went wrong. Please try again."
        )
    if code in _SHOW_SERVER_MESSAGE and detail:
        if code == "BAD_USER_INPUT":
            return f"Please check what you entered: {detail}"
        detail = detail[0].upper() + detail[1:]
        return detail if detail.endswith((".", "!", "?")) else detail + "."
    return base


class ApiError(Exception):
    """A failed API call, with a machine code and words for a person."""

    def __init__(
        self,
        code: str,
        message: str | None = None,
        retry_after: float | None = None,
        field: str | None = None,
    ) -> None:
        self.code = code
        self.server_message = message
        self.retry_after = retry_after
        self.field = field
        self.message = describe_error(code, message, retry_after)
        super().__init__(self.message)

    @property
    def unauthenticated(self) -> bool:
        return self.code == "UNAUTHENTICATED"

    @classmethod
    def from_graphql(cls, error: Any) -> ApiError:
        if not isinstance(error, dict):
            return cls("BAD_RESPONSE")
        ext = error.get("extensions") or {}
        code = ext.get("code") if isinstance(ext, dict) else None
        retry = ext.get("retryAfter") if isinstance(ext, dict) else None
        try:
            retry_after = float(retry) if retry is not None else None
        except (TypeError, ValueError):
            retry_after = None
        field = ext.get("field") if isinstance(ext, dict) else None
        message = error.get("message")
        if not code:
            # A GraphQL validation error (the dashboard asked for something the
            # schema does not have) or an error without a code.
            code = "INTERNAL_SERVER_ERROR"
        return cls(str(code), message if isinstance(message, str) else None, retry_after, field)

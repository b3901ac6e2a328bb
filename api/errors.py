"""Domain errors carrying the contract's error codes (extensions.code).

Plain exceptions: the domain raises them without knowing about GraphQL, and the edge
(api/graphql/errors.py) maps each to a GraphQL error with its message and extensions."""

from __future__ import annotations

import math


class BooperError(Exception):
    """A refusal the client should see as is: message plus extensions.code (and any other
    extensions, such as retryAfter)."""

    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **extensions: object) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, object] = {"code": self.code, **extensions}


class Unauthenticated(BooperError):
    code = "UNAUTHENTICATED"


class Forbidden(BooperError):
    code = "FORBIDDEN"


class NotFound(BooperError):
    code = "NOT_FOUND"


class BadUserInput(BooperError):
    code = "BAD_USER_INPUT"


class Conflict(BooperError):
    code = "CONFLICT"


class QuotaExceeded(BooperError):
    code = "QUOTA_EXCEEDED"


class PayloadTooLarge(BooperError):
    code = "PAYLOAD_TOO_LARGE"


class RateLimited(BooperError):
    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, retryAfter=max(1, math.ceil(retry_after)))

"""Domain errors carrying the contract's error codes (extensions.code).

Plain exceptions: the domain raises them without knowing about GraphQL, and the edge
(api/graphql/errors.py) maps each to a GraphQL error with its message and extensions."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator


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


class ServiceUnavailable(BooperError):
    """The database or the queue did not answer (stopped, restarting, failing over): nothing the
    caller did. A query may be repeated after `retryAfter`; a mutation's changes may or may not have
    been saved (the connection may have gone during the commit), so the message says to check
    first. A send repeated with the same idempotencyKey is sent once."""

    code = "SERVICE_UNAVAILABLE"
    MESSAGE = ("the service's database or queue did not answer; try again shortly (a change may or may not have"
               " been saved: check before repeating it, or repeat a send with the same idempotencyKey)")

    def __init__(self, message: str = MESSAGE, retry_after: float = 2) -> None:
        super().__init__(message, retryAfter=max(1, math.ceil(retry_after)))


class RateLimited(BooperError):
    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, retryAfter=max(1, math.ceil(retry_after)))


@contextlib.contextmanager
def channel_must_exist() -> Iterator[None]:
    """A channel deleted after it was looked up (a cached lookup, the retention of an abandoned
    public channel): the row written refers to nothing, and the call is refused NOT_FOUND as the
    lookup would have refused it, not failed as an internal error."""
    try:
        yield
    except Exception as exc:
        name = type(exc).__name__
        if name == "ForeignKeyViolationError" or (name == "IntegrityError" and "FOREIGN KEY" in str(exc)):
            raise NotFound("channel not found") from None
        raise

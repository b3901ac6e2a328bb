"""What the database and Redis clients raise while their server is stopped, restarting or
failing over: the API answers SERVICE_UNAVAILABLE instead of an internal error, and a sender that
already handed a batch to its provider keeps trying to record it (api/delivery/senders.py)."""

from __future__ import annotations

import asyncpg
import redis.exceptions

# A pooled connection that PostgreSQL's shutdown cut mid-protocol raises InternalClientError
# ("cannot switch to state 11; another operation (2) is in progress") on its next statement: a
# sender that took that for a bug gave up its record, and the sweep sent its 1,000 rows again (a
# CI chaos run). OSError covers refused and reset connections and timeouts.
DATABASE_GONE = (OSError, asyncpg.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError,
                 asyncpg.InterfaceError, asyncpg.InternalClientError)
QUEUE_GONE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def is_outage(exc: BaseException | None) -> bool:
    """Whether `exc` (or what it was raised from) says a server went away, rather than a bug: a
    refused or cut connection, PostgreSQL shutting down or starting up. Not asyncpg's interface
    errors in general (a misuse is a bug), only those about a closed connection."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, (ConnectionError, TimeoutError, asyncpg.PostgresConnectionError,
                            asyncpg.exceptions.OperatorInterventionError, *QUEUE_GONE)):
            return True
        if isinstance(exc, asyncpg.InterfaceError) and "closed" in str(exc):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False

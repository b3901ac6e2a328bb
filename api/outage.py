"""What the database and Redis clients raise while their server is stopped, restarting or
failing over: the API answers SERVICE_UNAVAILABLE instead of an internal error, and a sender that
already handed a batch to its provider keeps trying to record it (api/delivery/senders.py)."""

from __future__ import annotations

import errno
import socket

import asyncpg
import redis.exceptions

# A pooled connection that PostgreSQL's shutdown cut mid-protocol raises InternalClientError
# ("cannot switch to state 11; another operation (2) is in progress") on its next statement: a
# sender that took that for a bug gave up its record, and the sweep sent its 1,000 rows again (a
# CI chaos run). OSError covers refused and reset connections and timeouts. A sender errs on the
# side of waiting: a record given up costs a batch sent twice.
DATABASE_GONE = (OSError, asyncpg.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError,
                 asyncpg.InterfaceError, asyncpg.InternalClientError)

# The API errs the other way: an error it calls an outage is logged as a warning without its
# traceback, so only what is surely a server away (or refusing connections) counts.
_SERVER_AWAY = (ConnectionError, TimeoutError, socket.gaierror, asyncpg.PostgresConnectionError,
                asyncpg.exceptions.AdminShutdownError, asyncpg.exceptions.CrashShutdownError,
                asyncpg.exceptions.CannotConnectNowError, asyncpg.exceptions.TooManyConnectionsError,
                redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.ReadOnlyError)
_NOT_AWAY = (redis.exceptions.AuthenticationError,)  # a wrong password: configuration, not an outage
_NETWORK_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EHOSTUNREACH,
                   errno.ENETUNREACH, errno.ETIMEDOUT, errno.EPIPE}


def is_outage(exc: BaseException | None) -> bool:
    """Whether `exc`, or what it was raised from (`raise ... from`, as taskiq wraps a failed kick),
    says a server went away rather than a bug: a refused, unreachable or cut connection, PostgreSQL
    shutting down or starting up. asyncpg's interface and internal errors only where they are about
    a closed connection (a misuse is a bug). Not an exception merely raised while handling one: a
    bug in an `except` block stays a bug."""
    for _ in range(5):
        if exc is None:
            return False
        if isinstance(exc, _NOT_AWAY):
            return False
        if isinstance(exc, _SERVER_AWAY):
            return True
        if isinstance(exc, OSError) and (exc.errno in _NETWORK_ERRNOS
                                         or str(exc).startswith("Multiple exceptions: [Errno")):
            return True  # asyncio's connect to each address of a name (::1 and 127.0.0.1)
        text = str(exc)
        if isinstance(exc, asyncpg.InterfaceError) and ("connection is closed" in text or "pool is clos" in text):
            return True
        if isinstance(exc, asyncpg.InternalClientError) and text.startswith("cannot switch to state"):
            return True
        exc = exc.__cause__
    return False

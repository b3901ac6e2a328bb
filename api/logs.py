"""Logging: one JSON object per line in production mode, readable lines otherwise.

Records carry ids (notification_id, delivery_ids, app_id) passed as `extra`;
never secrets, push tokens or payload bodies. Every logger of the process (uvicorn's,
Litestar's, Strawberry's, warnings) goes through the one root handler, so that no line
escapes the format. GraphQL errors are logged with their path and the exception, never the
document or the variables: Strawberry's own logging prints the document around the error,
and with it the push tokens and codes it carries.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import traceback
from collections.abc import Iterable
from typing import Any

import orjson

# uvicorn's color_message is its message again with terminal colour codes.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "color_message"}
# Loggers that libraries give handlers of their own (uvicorn's dictConfig, Litestar's
# LoggingConfig): emptied and made to propagate to the root handler.
_LIBRARY_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi", "litestar", "strawberry",
                    "strawberry.execution", "taskiq", "piccolo")
REDACTED = "[redacted]"
_MIN_SECRET = 4  # shorter strings ("id", "a") would blank out the message rather than hide anything
log = logging.getLogger("booper.graphql")
_production = False


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure(production: bool, level: int = logging.INFO) -> None:
    """Route every logger through one stderr handler (JSON in production). Idempotent: called
    again after a library reconfigured logging (Litestar does when an app is built)."""
    global _production
    _production = production
    handler = logging.StreamHandler(sys.stderr)
    if production:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in _LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # Request lines would carry tokens in query strings (GET /graphql?variables=...).
    logging.getLogger("uvicorn.access").disabled = production
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.captureWarnings(True)  # warnings are log records too, not raw stderr lines
    if production:
        sys.excepthook = _log_uncaught


def _log_uncaught(kind: type[BaseException], error: BaseException, tb: Any) -> None:
    logging.getLogger("booper").critical("uncaught exception", exc_info=(kind, error, tb))


def uvicorn_log_config(production: bool) -> dict | None:
    """uvicorn's `log_config`: None in production (its loggers then propagate to the JSON
    root handler instead of printing their own lines); its default otherwise."""
    if production:
        return None
    from uvicorn.config import LOGGING_CONFIG

    return LOGGING_CONFIG


def log_unexpected_graphql_errors(errors: Iterable[Any], execution_context: Any = None) -> None:
    """Log GraphQL errors that are not refusals: what failed (type, message, traceback) and where
    (the path), with every string the request carried (document literals, variables) cut out of
    the text, in case an exception echoes one. Never the document or the variables themselves."""
    secrets = _request_strings(execution_context)
    for error in errors:
        original = getattr(error, "original_error", None) or error
        text = _redact("".join(traceback.format_exception(type(original), original, original.__traceback__)),
                       secrets)
        message = _redact(f"unexpected {type(original).__name__} in a GraphQL operation: {original}", secrets)
        log.error(
            message if _production else f"{message}\n{text}",  # readable lines carry it inline
            extra={"path": list(getattr(error, "path", None) or []), "error_type": type(original).__name__,
                   "exception": text},
        )


def _request_strings(execution_context: Any) -> list[str]:
    found: list[str] = []
    if execution_context is None:
        return found
    _strings_in(getattr(execution_context, "variables", None), found)
    document = getattr(execution_context, "graphql_document", None)
    if document is not None:
        from graphql import StringValueNode, Visitor, visit

        class Literals(Visitor):
            def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
                found.append(node.value)

        visit(document, Literals())
    # Longest first: a token that contains a shorter secret is cut out whole.
    return sorted({s for s in found if len(s) >= _MIN_SECRET}, key=len, reverse=True)


def _strings_in(value: Any, found: list[str]) -> None:
    if isinstance(value, str):
        found.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _strings_in(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            _strings_in(item, found)


def _redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text

"""GraphQL over HTTP at the byte level: which media type a client gets (Accept), how a request body
becomes JSON (strictly UTF-8, bounded depth, no NaN), and the coded error body for a request that
never reached GraphQL.

The GraphQL-over-HTTP spec's two response types: application/json (the legacy one: every
well-formed request gets 200) and application/graphql-response+json (a request error, one that
stops before execution, gets 400 and no `data` entry).
"""

from __future__ import annotations

import json
import math
from functools import lru_cache

import orjson

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
# Booper's own documents are a few levels deep and the JSON scalar allows 32 more: a body nested
# deeper than this is refused before anything walks it.
MAX_DEPTH = 64


@lru_cache(maxsize=256)
def negotiate(accept: str) -> str:
    """The response media type for an Accept header: graphql-response+json when the client ranks
    it at least as high as application/json, else application/json (also for a missing or
    unsatisfiable Accept: the spec lets a server answer in application/json then)."""
    best, best_q = JSON, 0.0
    for part in accept.split(","):
        media, *params = part.split(";")
        media = media.strip().lower()
        if media == GRAPHQL_RESPONSE:
            candidate = GRAPHQL_RESPONSE
        elif media in (JSON, "application/*", "*/*"):
            candidate = JSON
        else:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if not 0.0 < q <= 1.0:  # q=0 means "not this one" (and NaN compares false)
            continue
        if q > best_q or (q == best_q and candidate == GRAPHQL_RESPONSE):
            best, best_q = candidate, q
    return best


def _refuse_constant(name: str) -> float:
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise json.JSONDecodeError(f"number {text[:20]} is out of range", text, 0)
    return value


def decode_json(data: str | bytes) -> object:
    """A JSON text as Python values, exactly (integers of any size stay integers: the JSON scalar
    decides what it accepts). Raises json.JSONDecodeError, with a message for the client, for text
    that is not UTF-8, not JSON, NaN/Infinity, or nested deeper than MAX_DEPTH."""
    if isinstance(data, bytes | bytearray):
        try:
            data = bytes(data).decode()  # strictly UTF-8: the spec's only encoding
        except UnicodeDecodeError as exc:
            raise json.JSONDecodeError("the body is not valid UTF-8", "", exc.start) from None
    try:
        value = json.loads(data, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise json.JSONDecodeError(f"JSON may be nested at most {MAX_DEPTH} levels deep", "", 0) from None
    if too_deep(value):
        raise json.JSONDecodeError(f"JSON may be nested at most {MAX_DEPTH} levels deep", "", 0)
    return value


def too_deep(value: object, limit: int = MAX_DEPTH) -> bool:
    """Whether a decoded JSON value nests more than `limit` objects/arrays (walked with a stack)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def error_body(message: str, code: str = "BAD_USER_INPUT") -> bytes:
    """A GraphQL response that is only a request error (no `data` entry: execution never began)."""
    return orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})

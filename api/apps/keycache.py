"""A short-lived in-process cache of API key lookups.

Every integrator request presents its key; looking it up (and the app's plan) once
per few seconds instead of once per request takes a query off the hot send path.
Revoking a key clears it here at once; other processes notice within TTL seconds.
"""

from __future__ import annotations

from typing import Any

from api.ttlcache import TtlCache

TTL = 5.0
_cache = TtlCache(TTL)


def get(secret_hash: str) -> Any | None:
    return _cache.get(secret_hash)


def put(secret_hash: str, value: Any) -> None:
    _cache.put(secret_hash, value)


def forget(secret_hash: str | None = None) -> None:
    """Drop one key (or everything): called when a key is revoked or an app's plan changes."""
    _cache.forget(secret_hash)

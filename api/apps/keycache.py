"""A short-lived in-process cache of API key lookups.

Every integrator request presents its key; looking it up (and the app's plan) once
per few seconds instead of once per request takes a query off the hot send path.
Revoking a key clears it here at once; other processes notice within TTL seconds.
"""

from __future__ import annotations

import time
from typing import Any

TTL = 5.0
MAX_ENTRIES = 10_000
_entries: dict[str, tuple[float, Any]] = {}


def get(secret_hash: str) -> Any | None:
    hit = _entries.get(secret_hash)
    if hit is None or hit[0] < time.monotonic():
        return None
    return hit[1]


def put(secret_hash: str, value: Any) -> None:
    if len(_entries) >= MAX_ENTRIES:
        _entries.clear()
    _entries[secret_hash] = (time.monotonic() + TTL, value)


def forget(secret_hash: str | None = None) -> None:
    """Drop one key (or everything): called when a key is revoked or an app's plan changes."""
    if secret_hash is None:
        _entries.clear()
    else:
        _entries.pop(secret_hash, None)

"""Retry delays, shared by deliveries and webhooks (neither owns the other)."""

from __future__ import annotations

import random


def backoff(attempts: int, base: float, cap: float, retry_after: float | None) -> float:
    """Exponential backoff with full jitter; never sooner than the provider's Retry-After."""
    delay = random.uniform(0, min(cap, base * 2 ** max(attempts - 1, 0)))
    return max(delay, retry_after or 0.0, base / 4)

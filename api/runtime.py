"""The pieces a running Booper process shares: settings, queue, live hub, rate limiter, senders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api.live.hub import LiveHub
from api.queue import TaskQueue
from api.ratelimit import RateLimiter
from api.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    queue: TaskQueue
    live: LiveHub
    limiter: RateLimiter
    # Provider clients (api.delivery.providers.Providers), created lazily by the delivery code.
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def secret_key(self) -> str:
        return self.settings.resolved_secret_key


_current: Runtime | None = None


def set_runtime(runtime: Runtime | None) -> None:
    """Tasks run outside a request; they find the process's runtime here."""
    global _current
    _current = runtime


def get_runtime() -> Runtime:
    if _current is None:
        raise RuntimeError("Booper runtime not started")
    return _current

"""An async token bucket that paces sends to a provider's per-second limit."""

import asyncio
import time


class TokenBucket:
    """Paces to `rate` tokens per second with bursts of up to `burst` tokens.

    Implemented as GCRA (virtual scheduling): the bucket keeps the theoretical
    time at which everything granted so far has been paid for. A caller
    reserves its tokens by advancing that time *before* it awaits anything, so
    concurrent callers on one event loop queue up behind each other in arrival
    order without a lock, and nobody sleeps while under the rate. A caller
    cancelled while sleeping forfeits its reservation: that errs on the slow
    side, which is the safe side for a provider's limit.

    The bucket is per process: with several worker processes, give each a
    share of the provider's limit.
    """

    def __init__(self, rate: float, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = rate if burst is None else burst
        if self.burst <= 0:
            raise ValueError("burst must be positive")
        self._paid_until = 0.0  # monotonic time at which all granted tokens are paid for

    def reserve(self, tokens: float) -> float:
        """Take `tokens` now and return how many seconds the caller must wait first."""
        now = time.monotonic()
        paid_until = max(self._paid_until, now) + tokens / self.rate
        self._paid_until = paid_until
        return max(0.0, paid_until - self.burst / self.rate - now)

    async def acquire(self, tokens: float) -> float:
        """Wait until `tokens` may be spent; returns the seconds waited."""
        delay = self.reserve(tokens)
        if delay > 0:
            await asyncio.sleep(delay)
        return delay

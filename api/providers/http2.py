"""The HTTP/2 client FCM and APNs share: one lean client (api/providers/h2client.py) per provider
per process, created on first use (inside the running loop), a few connections per host each
carrying many concurrent streams."""

from __future__ import annotations

import asyncio
from typing import Any

from api.providers.h2client import H2Client


class Http2Provider:
    def __init__(self, *, timeout: float, concurrency: int, verify: Any) -> None:
        self.concurrency = concurrency
        self._timeout = timeout
        self._verify = verify
        self._client: H2Client | None = None
        # Requests in flight per process, whatever the number of send tasks running at once
        # (each sizes its own runners to `concurrency` too): more only queue in the connections.
        self.slots = asyncio.Semaphore(concurrency)

    def _http(self) -> H2Client:
        if self._client is None:
            # About 100 streams per connection (both providers' usual limit), at least a few connections.
            self._client = H2Client(timeout=self._timeout, verify=self._verify,
                                    max_connections=max(4, self.concurrency // 100))
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

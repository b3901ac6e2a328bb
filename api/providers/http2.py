"""The HTTP/2 client FCM and APNs share: one httpx client per provider per process, created on
first use (inside the running loop), a few connections each carrying many concurrent streams."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx


class Http2Provider:
    def __init__(self, *, timeout: float, concurrency: int, verify: Any) -> None:
        self.concurrency = concurrency
        self._timeout = timeout
        self._verify = verify
        self._client: httpx.AsyncClient | None = None
        # Requests in flight per process, whatever the number of send tasks running at once
        # (each sizes its own runners to `concurrency` too): more only queue in the connections.
        self.slots = asyncio.Semaphore(concurrency)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            # About 100 streams per connection (both providers' usual limit), at least a few connections.
            limits = httpx.Limits(max_connections=max(4, self.concurrency // 100), max_keepalive_connections=8)
            self._client = httpx.AsyncClient(http2=True, timeout=self._timeout, verify=self._verify, limits=limits)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

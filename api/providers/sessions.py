"""The pooled aiohttp session a provider client sends through (Expo, Web Push)."""

from __future__ import annotations

import aiohttp


class LazySession:
    """The caller's own session, or one made on first use (an aiohttp session must be made inside
    the running loop) with `connections` pooled connections, and made again if it was closed."""

    def __init__(self, session: aiohttp.ClientSession | None = None, *, connections: int) -> None:
        self._session = session
        self._owned = session is None
        self._connections = connections

    def __call__(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self._connections))
        return self._session

    async def close(self) -> None:
        """Closes the session if it was made here; a caller's own is the caller's to close."""
        if self._owned and self._session is not None:
            await self._session.close()
            self._session = None

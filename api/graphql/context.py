"""Per-request context: who is calling (the viewer), the client IP, loaders."""

from __future__ import annotations

import time
from typing import Any

from litestar.datastructures import State
from strawberry.litestar.controller import BaseContext
from strawberry.types import Info as StrawberryInfo

from api.access import ANONYMOUS, Viewer
from api.apps.service import viewer_for_key
from api.client_address import client_address
from api.errors import Unauthenticated
from api.runtime import Runtime
from api.security import API_KEY_PREFIX
from api.users.service import user_for_jwt

# On a WebSocket the credentials of connection_init are checked again this often (the API-key
# cache's TTL): a revoked key or a deleted user stops working on open sockets too.
REVALIDATE_AFTER = 5.0




class Context(BaseContext, kw_only=True, dict=True):
    runtime: Runtime
    connection_params: dict | None = None

    async def viewer(self) -> Viewer:
        """Who is calling. Over HTTP resolved once per request; over a WebSocket (one context for
        the whole connection) re-resolved every REVALIDATE_AFTER seconds and whenever access was
        withdrawn somewhere (the live hub's access epoch), and a JWT's expiry is checked on every
        call, so revocation and expiry reach open sockets too."""
        cached = self.__dict__.get("_viewer")
        now = time.monotonic()
        epoch = self.runtime.live.access_epoch
        if cached is None or (
            self.websocket is not None
            and (now - self.__dict__["_viewer_at"] > REVALIDATE_AFTER or epoch != self.__dict__["_viewer_epoch"])
        ):
            cached = await self._resolve_viewer()
            self.__dict__["_viewer"] = cached
            self.__dict__["_viewer_at"] = now
            self.__dict__["_viewer_epoch"] = epoch
        if isinstance(cached, Unauthenticated):
            raise cached
        if cached.expires_at is not None and time.time() >= cached.expires_at:
            raise Unauthenticated("invalid or expired token: log in again")
        return cached

    def device_key(self) -> str | None:
        """The device key the caller presented: X-Device-Key, or deviceKey in connection_init."""
        if self.websocket is not None:
            key = (self.connection_params or {}).get("deviceKey")
            return key.strip() if isinstance(key, str) and key.strip() else None
        if self.request is None:
            return None
        for name, value in self.request.scope["headers"]:
            if name == b"x-device-key":
                return value.decode("latin-1").strip() or None
        return None

    def loaders(self) -> dict[str, Any]:
        return self.__dict__.setdefault("_loaders", {})

    @property
    def client_ip(self) -> str:
        conn = self.request or self.websocket
        if conn is None:
            return "unknown"
        return client_address(
            conn.scope, self.runtime.settings.trusted_proxy_list, self.runtime.settings.proxy_secret
        )

    @property
    def client_bucket(self) -> str:
        """What per-address limits count: the address, or its IPv6 /64 (api/ratelimit.py)."""
        from api.ratelimit import address_bucket

        return address_bucket(self.client_ip)

    def _credentials(self) -> tuple[str | None, str | None]:
        if self.websocket is not None:
            params = self.connection_params or {}
            auth, key = params.get("authorization"), params.get("apiKey")
            return (auth if isinstance(auth, str) else None, key if isinstance(key, str) else None)
        if self.request is None:
            return None, None
        # Straight from the ASGI scope: building Litestar's Headers was a measurable share of a send.
        authorization = api_key = None
        for name, value in self.request.scope["headers"]:
            if name == b"authorization" and authorization is None:
                authorization = value.decode("latin-1")
            elif name == b"x-api-key" and api_key is None:
                api_key = value.decode("latin-1")
        return authorization, api_key

    async def _resolve_viewer(self) -> Viewer | Unauthenticated:
        authorization, api_key = self._credentials()
        if authorization:
            scheme, _, token = authorization.strip().partition(" ")
            if scheme.lower() != "bearer" or not token:
                return Unauthenticated("Authorization must be 'Bearer <token>'")
            if token.startswith(API_KEY_PREFIX):
                api_key = token
            else:
                # Signature, expiry, and the user's token version (deleted users, logOutEverywhere).
                user_id = await user_for_jwt(token.strip(), self.runtime.secret_key)
                if user_id is None:
                    return Unauthenticated("invalid or expired token: log in again")
                return Viewer("user", user_id=user_id, expires_at=_expiry(token.strip()))
        if api_key:
            return await viewer_for_key(api_key.strip())
        return ANONYMOUS


def _expiry(token: str) -> float | None:
    """The exp claim of a JWT whose signature was already verified."""
    import jwt

    try:
        return float(jwt.decode(token, options={"verify_signature": False})["exp"])
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        return None


async def context_getter(state: State) -> Context:
    return Context(runtime=state.runtime)


Info = StrawberryInfo[Context, None]

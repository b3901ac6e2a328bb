"""The client's address behind trusted reverse proxies: one rule for HTTP requests, GraphQL
contexts and the WebSocket connection limit (plain ASGI, no framework)."""

from __future__ import annotations

import ipaddress
from typing import Any


def client_address(scope: Any, trusted: tuple[str, ...]) -> str:
    """The peer, or behind trusted proxies the first untrusted hop of X-Forwarded-For.

    X-Forwarded-For is "client, proxy1, proxy2": walk from the right past our own proxies; the
    first untrusted hop is the client."""
    peer = (scope.get("client") or ("unknown", 0))[0] or "unknown"
    if not trusted or not is_trusted(peer, trusted):
        return peer
    forwarded = ",".join(v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"x-forwarded-for")
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer


def is_trusted(address: str, trusted: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in trusted)

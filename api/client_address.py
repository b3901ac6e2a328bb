"""The client's address behind trusted reverse proxies: one rule for HTTP requests, GraphQL
contexts and the WebSocket connection limit (plain ASGI, no framework)."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

# The header a trusted first-party proxy (the dashboard's server) proves itself with: its value is
# BOOPER_PROXY_SECRET. Loopback is not trusted by itself: browsers and curl come from there too.
PROXY_SECRET_HEADER = b"x-booper-proxy"


def client_address(scope: Any, trusted: tuple[str, ...], proxy_secret: str | None = None) -> str:
    """The peer, or behind trusted proxies the first untrusted hop of X-Forwarded-For.

    X-Forwarded-For is "client, proxy1, proxy2": walk from the right past our own proxies; the
    first untrusted hop is the client. A request carrying the proxy secret (constant-time compare)
    comes from our own proxy whatever its address: its last hop is the client it speaks for."""
    peer = (scope.get("client") or ("unknown", 0))[0] or "unknown"
    headers = scope.get("headers", ())
    if proxy_secret and _proves_secret(headers, proxy_secret):
        hops = _forwarded_hops(headers)
        if hops and _is_address(hops[-1]):
            return hops[-1]
    if not trusted or not is_trusted(peer, trusted):
        return peer
    hops = _forwarded_hops(headers)
    for hop in reversed(hops):
        if not is_trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer


def _forwarded_hops(headers: Any) -> list[str]:
    forwarded = ",".join(v.decode("latin-1") for k, v in headers if k == b"x-forwarded-for")
    return [h.strip() for h in forwarded.split(",") if h.strip()]


def _proves_secret(headers: Any, secret: str) -> bool:
    presented = next((v for k, v in headers if k == PROXY_SECRET_HEADER), None)
    return presented is not None and hmac.compare_digest(presented, secret.encode())


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def is_trusted(address: str, trusted: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in trusted)

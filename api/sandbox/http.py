"""Small HTTP helpers shared by the sandbox routes: JSON responses, fault answers, base64url."""

import asyncio
import base64
import binascii
from typing import Any

import orjson
from litestar import Request, Response

from api.sandbox.state import FaultRule, SandboxState

JSON = "application/json"


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(content=orjson.dumps(data), status_code=status, media_type=JSON,
                    headers=headers)


def expo_error(status: int, code: str, message: str,
               headers: dict[str, str] | None = None) -> Response:
    """Expo's shape for a failed request: a top-level `errors` list."""
    return json_response({"errors": [{"code": code, "message": message}]}, status, headers)


async def fault_response(rule: FaultRule, state: SandboxState) -> Response:
    """Answer a request the way an injected whole-request fault says to."""
    if rule.fault == "timeout":
        # Stall past the client's timeout; the client gives up before this returns.
        await asyncio.sleep(rule.seconds if rule.seconds is not None
                            else state.timeout_fault_seconds)
        return expo_error(504, "TIMEOUT", "sandbox fault: timeout")
    status = int(rule.fault[5:])
    headers = {"Retry-After": f"{rule.retry_after:g}"} if status in (429, 503) else None
    code = "TOO_MANY_REQUESTS" if status == 429 else f"HTTP_{status}"
    return expo_error(status, code, f"sandbox fault: {rule.fault}", headers)


def origin_of(request: Request) -> str:
    """The origin the client addressed (scheme and Host header), as a VAPID `aud` names it."""
    host = request.headers.get("host") or "localhost"
    return f"{request.url.scheme}://{host}".lower()


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


_TO_STANDARD = str.maketrans("-_", "+/")


def b64url_decode(text: str) -> bytes:
    """Strict base64url (padding optional): a real push service rejects stray characters."""
    text = text.strip().rstrip("=")
    if "+" in text or "/" in text:
        raise ValueError("not base64url")
    try:
        return base64.b64decode(text.translate(_TO_STANDARD) + "=" * (-len(text) % 4),
                                validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


async def pause(state: SandboxState) -> None:
    """Artificial provider latency for benchmarks (0 by default: no await at all)."""
    if state.latency_ms > 0:
        await asyncio.sleep(state.latency_ms / 1000)

"""Sandbox APNs: POST /3/device/{token} over HTTP/2 only, checking the provider token (ES256, key id,
team, age, how often it changes), the headers and the 4 KB payload, with per-token faults."""

from __future__ import annotations

import asyncio
import random
import re
import time
from typing import Any

import orjson

from api.sandbox.asgi import answer, read_body
from api.sandbox.native_keys import JwtRefused
from api.sandbox.state import SandboxState

PREFIX = "/3/device/"
_HEX_TOKEN = re.compile(r"[0-9a-fA-F]{64,}")
MAX_PAYLOAD = 4096
_FAULT_STATUS = {"Unregistered": 410, "BadDeviceToken": 400, "TooManyRequests": 429, "InternalServerError": 500,
                 "ServiceUnavailable": 503, "InvalidProviderToken": 403}
_TOKEN_STATUS = {"InvalidProviderToken": 403, "ExpiredProviderToken": 403, "TooManyProviderTokenUpdates": 429}


def serves(path: str) -> bool:
    return path.startswith(PREFIX)


_V4_MASK = ~((0xF << 76) | (0x3 << 62))  # version and variant bits of a UUID
_V4_BITS = (4 << 76) | (2 << 62)


def _apns_id() -> bytes:
    """A random (version 4) UUID in APNs' upper-case form; uuid.uuid4() costs a system call each."""
    h = f"{random.getrandbits(128) & _V4_MASK | _V4_BITS:032X}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}".encode()


async def _refuse(send: Any, status: int, reason: str, extra: list | None = None) -> None:
    body: dict[str, Any] = {"reason": reason}
    if status == 410:
        body["timestamp"] = int(time.time() * 1000)
    await answer(send, status, body, [(b"apns-id", _apns_id()), *(extra or [])])


def _bad_headers(fields: dict[str, str], payload: bytes) -> tuple[str | None, Any]:
    """APNs' reason for headers or a payload it would refuse, if any; else (None, the payload)."""
    push_type = fields.get("apns-push-type")
    if push_type not in ("alert", "background", "voip", "complication", "fileprovider", "mdm", "liveactivity"):
        return "InvalidPushType", None
    if not fields.get("apns-topic"):
        return "MissingTopic", None
    priority = fields.get("apns-priority")
    if priority not in (None, "10", "5", "1") or (push_type == "background" and priority == "10"):
        return "BadPriority", None
    expiration = fields.get("apns-expiration")
    if expiration is not None and not expiration.isdigit():
        return "BadExpirationDate", None
    collapse = fields.get("apns-collapse-id")
    if collapse is not None and len(collapse.encode()) > 64:
        return "BadCollapseId", None
    if len(payload) > MAX_PAYLOAD:
        return "PayloadTooLarge", None
    try:
        message = orjson.loads(payload)
        if not isinstance(message.get("aps"), dict):
            return "PayloadEmpty", None
    except (orjson.JSONDecodeError, AttributeError):
        return "BadMessageId", None
    return None, message


async def handle(scope: dict, receive: Any, send: Any, state: SandboxState) -> None:
    payload = await read_body(receive)
    state.count("requests.apns")
    token = scope["path"][len(PREFIX):]
    if scope.get("http_version") != "2":
        await _refuse(send, 400, "BadRequest: HTTP/2 only")  # real APNs does not speak HTTP/1.1 at all
        return
    # Header names are lower case in HTTP/2; the last of a repeated one counts here.
    fields = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    authorization = fields.get("authorization") or ""
    try:
        # The client's address and port name its connection (one scope per stream).
        connection = tuple(scope.get("client") or ())
        team = state.native.check_provider_token(authorization.removeprefix("bearer "), connection)
    except JwtRefused as refused:
        state.count("rejected.apns")
        await _refuse(send, _TOKEN_STATUS[refused.reason], refused.reason)
        return
    rule = state.faults.for_request("apns", [token]) if state.faults else None
    if rule is not None:
        if rule.fault == "timeout":
            await asyncio.sleep(rule.seconds if rule.seconds is not None else state.timeout_fault_seconds)
        status = 503 if rule.fault == "timeout" else int(rule.fault[5:])
        extra = [(b"retry-after", f"{rule.retry_after:g}".encode())] if status in (429, 503) else []
        await _refuse(send, status, f"sandbox fault: {rule.fault}", extra)
        return
    fault = state.faults.for_message(token, "apns") if state.faults else None
    reason, message = (fault, None) if fault else _bad_headers(fields, payload)
    if reason is None and not _HEX_TOKEN.fullmatch(token):
        reason = "BadDeviceToken"
    if reason is not None:
        state.count("rejected.apns")
        await _refuse(send, _FAULT_STATUS.get(reason, 400), reason)
        return
    headers = {name: value for name, value in fields.items() if name.startswith("apns-")}
    state.store({"provider": "apns", "to": token, "team": team, "headers": headers,
                 "message": message, "http_version": scope.get("http_version"),
                 "received_at": time.time()})
    state.count("messages.apns")
    await send({"type": "http.response.start", "status": 200, "headers": [(b"apns-id", _apns_id())]})
    await send({"type": "http.response.body", "body": b""})



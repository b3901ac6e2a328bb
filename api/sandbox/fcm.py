"""Sandbox FCM HTTP v1: the OAuth2 token endpoint (JWT bearer grant, signature checked) and
POST /v1/projects/{project}/messages:send, with FCM's error shapes and per-token faults."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any
from urllib.parse import parse_qs

import orjson

from api.sandbox.asgi import answer, header, read_body
from api.sandbox.native_keys import JwtRefused
from api.sandbox.state import SandboxState

TOKEN_PATH = "/token"
_SEND_PREFIX, _SEND_SUFFIX = "/v1/projects/", "/messages:send"
MAX_MESSAGE = 4096
FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
_STATUS = {"UNREGISTERED": (404, "NOT_FOUND"), "INVALID_ARGUMENT": (400, "INVALID_ARGUMENT"),
           "QUOTA_EXCEEDED": (429, "RESOURCE_EXHAUSTED"), "UNAVAILABLE": (503, "UNAVAILABLE"),
           "INTERNAL": (500, "INTERNAL"), "SENDER_ID_MISMATCH": (403, "PERMISSION_DENIED"),
           "THIRD_PARTY_AUTH_ERROR": (401, "UNAUTHENTICATED")}


def fcm_error(error_code: str | None, status: int, text: str) -> dict:
    google_status = _STATUS.get(error_code or "", (0, "UNKNOWN"))[1]
    error: dict[str, Any] = {"code": status, "message": text, "status": google_status}
    if error_code:
        error["details"] = [{"@type": FCM_ERROR_TYPE, "errorCode": error_code}]
    return {"error": error}


def serves(path: str) -> bool:
    return path == TOKEN_PATH or (path.startswith(_SEND_PREFIX) and path.endswith(_SEND_SUFFIX))


async def handle(scope: dict, receive: Any, send: Any, state: SandboxState, origin: str) -> None:
    path = scope["path"]
    body = await read_body(receive)
    if path == TOKEN_PATH:
        await _token(send, body, state, origin)
    else:
        await _messages_send(scope, send, body, state, path[len(_SEND_PREFIX) : -len(_SEND_SUFFIX)])


async def _token(send: Any, body: bytes, state: SandboxState, origin: str) -> None:
    state.count("requests.fcm_token")
    rule = state.faults.for_request("fcm_token", ["*"])
    if rule is not None:
        await _request_fault(send, rule, state)
        return
    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
        await answer(send, 400, {"error": "unsupported_grant_type"})
        return
    try:
        grant = state.native.exchange(form.get("assertion", ""), origin + TOKEN_PATH)
    except JwtRefused as refused:
        await answer(send, 400, {"error": refused.reason, "error_description": "sandbox: assertion refused"})
        return
    await answer(send, 200, grant)


async def _messages_send(scope: dict, send: Any, body: bytes, state: SandboxState, project: str) -> None:
    state.count("requests.fcm")
    authorization = header(scope, b"authorization") or ""
    if state.native.project_of(authorization.removeprefix("Bearer ")) != project:
        await answer(send, 401, fcm_error("THIRD_PARTY_AUTH_ERROR", 401, "invalid or expired access token"))
        return
    try:
        message = orjson.loads(body)["message"]
        token = message["token"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        await answer(send, 400, fcm_error(None, 400, "message.token is required"))
        return
    rule = state.faults.for_request("fcm", [token]) if state.faults else None
    if rule is not None:
        await _request_fault(send, rule, state)
        return
    fault = state.faults.for_message(token, "fcm") if state.faults else None
    if fault is not None:
        status = _STATUS[fault][0]
        retry = [(b"retry-after", b"0")] if status in (429, 503) else []
        state.count("rejected.fcm")
        await answer(send, status, fcm_error(fault, status, f"sandbox fault: {fault}"), retry)
        return
    if len(body) > MAX_MESSAGE + 256 or not _data_is_strings(message):
        state.count("rejected.fcm")
        await answer(send, 400, fcm_error("INVALID_ARGUMENT", 400, "message too big or data values not strings"))
        return
    name = f"projects/{project}/messages/{random.getrandbits(128):032x}"
    state.store({"provider": "fcm", "to": token, "project": project, "message": message, "name": name,
                 "http_version": scope.get("http_version"), "received_at": time.time()})
    state.count("messages.fcm")
    await answer(send, 200, {"name": name})


def _data_is_strings(message: dict) -> bool:
    data = message.get("data") or {}
    return isinstance(data, dict) and all(isinstance(v, str) for v in data.values())


async def _request_fault(send: Any, rule: Any, state: SandboxState) -> None:
    if rule.fault == "timeout":
        await asyncio.sleep(rule.seconds if rule.seconds is not None else state.timeout_fault_seconds)
    status = 504 if rule.fault == "timeout" else int(rule.fault[5:])
    headers = [(b"retry-after", f"{rule.retry_after:g}".encode())] if status in (429, 503) else []
    await answer(send, status, fcm_error(None, status, f"sandbox fault: {rule.fault}"), headers)

"""Sandbox Expo push API: /--/api/v2/push/send and /--/api/v2/push/getReceipts."""

import gzip
import re
import time
import uuid
from typing import Any

import orjson
from litestar import Request, Response, post
from litestar.handlers import HTTPRouteHandler

from api.sandbox.http import expo_error, fault_response, json_response, pause
from api.sandbox.state import RECEIPT_FAULTS, SandboxState

MAX_MESSAGES = 100
MAX_RECEIPT_IDS = 1000
MAX_PAYLOAD = 4096
_TOKEN = re.compile(r"^Expo(nent)?PushToken\[[^\[\]]+\]$")
_OK_RECEIPT = {"status": "ok"}


def _ticket_error(code: str, message: str) -> dict[str, Any]:
    return {"status": "error", "message": message, "details": {"error": code}}


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if request.headers.get("content-encoding", "").lower() == "gzip":
        raw = gzip.decompress(raw)  # Expo accepts gzip-compressed request bodies
    return orjson.loads(raw)


def expo_routes(state: SandboxState) -> list[HTTPRouteHandler]:
    """Route handlers bound to one sandbox state."""

    @post("/--/api/v2/push/send", status_code=200)
    async def push_send(request: Request) -> Response:
        state.count("requests.expo")
        await pause(state)
        try:
            body = await _json_body(request)
        except (orjson.JSONDecodeError, OSError, EOFError):
            return expo_error(400, "VALIDATION_ERROR", "the body is not JSON")
        # One message or a list; a message may address a list of tokens.
        recipients: list[tuple[Any, dict[str, Any]]] = []
        for message in body if isinstance(body, list) else [body]:
            if not isinstance(message, dict):
                return expo_error(400, "VALIDATION_ERROR", "each message must be an object")
            to = message.get("to")
            for token in to if isinstance(to, list) else [to]:
                recipients.append((token, message))
        if not 1 <= len(recipients) <= MAX_MESSAGES:
            return expo_error(400, "PUSH_TOO_MANY_NOTIFICATIONS",
                              f"between 1 and {MAX_MESSAGES} notifications per request")
        faults = state.faults
        if faults:
            rule = faults.for_request("expo", [str(token) for token, _ in recipients])
            if rule is not None:
                return await fault_response(rule, state)
        tickets = []
        accepted = 0
        for token, message in recipients:
            if not isinstance(token, str) or not _TOKEN.match(token):
                tickets.append(_ticket_error(
                    "DeviceNotRegistered", f"{token!r} is not a valid Expo push token"))
                continue
            fault = faults.for_message(token) if faults else None
            if fault is not None and fault not in RECEIPT_FAULTS:
                tickets.append(_ticket_error(fault, f"sandbox fault: {fault}"))
            elif len(orjson.dumps(message)) > MAX_PAYLOAD:
                tickets.append(_ticket_error(
                    "MessageTooBig", f"the payload exceeds {MAX_PAYLOAD} bytes"))
            else:
                ticket_id = str(uuid.uuid4())
                tickets.append({"status": "ok", "id": ticket_id})
                accepted += 1
                if fault is None:
                    state.add_receipt(ticket_id, _OK_RECEIPT)
                    record = {"provider": "expo", "to": token, "ticket_id": ticket_id, "message": message,
                              "authorization": request.headers.get("authorization"), "received_at": time.time()}
                    state.store(record)
                else:  # accepted now, undeliverable later: only its receipt tells
                    code = fault.partition(":")[2]
                    state.add_receipt(ticket_id, _ticket_error(code, f"sandbox fault: {fault}"))
        state.count("messages.expo", accepted)
        if accepted < len(recipients):
            state.count("rejected.expo", len(recipients) - accepted)
        return json_response({"data": tickets})

    @post("/--/api/v2/push/getReceipts", status_code=200)
    async def get_receipts(request: Request) -> Response:
        state.count("requests.expo_receipts")
        await pause(state)
        try:
            body = await _json_body(request)
        except (orjson.JSONDecodeError, OSError, EOFError):
            return expo_error(400, "VALIDATION_ERROR", "the body is not JSON")
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            return expo_error(400, "VALIDATION_ERROR", '"ids" must be a list of strings')
        if len(ids) > MAX_RECEIPT_IDS:
            return expo_error(400, "PUSH_TOO_MANY_RECEIPTS",
                              f"at most {MAX_RECEIPT_IDS} receipt ids per request")
        if state.faults:
            rule = state.faults.for_request("expo_receipts", ids)
            if rule is not None:
                return await fault_response(rule, state)
        # Like Expo, ids without a receipt (unknown, or not ready yet) are left out.
        ready_before = time.monotonic() - state.receipt_delay_seconds
        receipts = state.receipts
        found = {}
        for ticket_id in ids:
            entry = receipts.get(ticket_id)
            if entry is not None and entry[0] <= ready_before:
                found[ticket_id] = entry[1]
        return json_response({"data": found})

    return [push_send, get_receipts]

"""Async Expo push client: paced batches of up to 100 messages, tickets, then receipts.

Expo works in two phases. `send` hands Expo up to 100 messages and gets back
one *ticket* per message, in order: "ok" with a ticket id means Expo accepted
the message, "error" means it refused it now (DeviceNotRegistered,
MessageTooBig, ...). Whether the device really got it is only known later: a
*receipt* for each ticket id becomes available after roughly 15 minutes and
is kept for 24 hours, fetched with `get_receipts` in batches of up to 1,000
ids. A receipt can still say DeviceNotRegistered, which is when a device
should be deactivated.

The HTTP is aiohttp (one pooled session, made inside the running loop); the
exponent-server-sdk is used only for its message type and error vocabulary, never for its
blocking `requests` calls. (httpx took 0.85 ms of CPU per 100-message request here, aiohttp 0.13:
about 7 us per delivery of a fan-out.)
"""

from collections.abc import Sequence
from typing import Any

import aiohttp
import orjson
from exponent_server_sdk import PushClient, PushMessage, PushTicket

from api.providers.failures import (
    Outcome,
    PermanentDeviceFailure,
    PermanentMessageFailure,
    ProviderFailure,
    TransientFailure,
    failure_from_expo_error,
    failure_from_http_status,
    parse_retry_after,
)
from api.providers.pacing import TokenBucket
from api.providers.sessions import LazySession

MAX_MESSAGES_PER_REQUEST = PushClient.DEFAULT_MAX_MESSAGE_COUNT
MAX_RECEIPT_IDS_PER_REQUEST = PushClient.DEFAULT_MAX_RECEIPT_COUNT
_SERVER_SIDE_CODES = {"TOO_MANY_REQUESTS", "INTERNAL_SERVER_ERROR", "SERVER_ERROR"}


def build_message(
    to: str,
    *,
    title: str | None = None,
    body: str | None = None,
    data: dict[str, Any] | None = None,
    priority: str | None = None,
    ttl: int | None = None,
    expiration: int | None = None,
    sound: str | None = None,
    badge: int | None = None,
    channel_id: str | None = None,
    subtitle: str | None = None,
    category: str | None = None,
    mutable_content: bool | None = None,
    collapse_id: str | None = None,
) -> dict[str, Any]:
    """An Expo message payload, including `collapseId`, which SDK 2.2's PushMessage lacks.

    Raises ValueError when `to` is not an Expo push token.
    """
    payload = PushMessage(
        to=to, title=title, body=body, data=data, priority=priority, ttl=ttl,
        expiration=expiration, sound=sound, badge=badge, channel_id=channel_id,
        subtitle=subtitle, category=category, mutable_content=mutable_content,
    ).get_payload()
    if collapse_id is not None:
        payload["collapseId"] = collapse_id
    return payload


def _payload_of(message: PushMessage | dict[str, Any]) -> dict[str, Any]:
    payload = message.get_payload() if isinstance(message, PushMessage) else message
    to = payload.get("to")
    if not isinstance(to, str):
        # One recipient per message keeps tickets 1:1 with messages (and deliveries).
        raise ValueError("each Expo message must have exactly one 'to' token")
    if not PushClient.is_exponent_push_token(to):
        raise ValueError("Invalid push token")
    return payload


class ExpoClient:
    """Talks to Expo's push API (or the sandbox) over one pooled aiohttp session."""

    def __init__(
        self,
        base_url: str = "https://exp.host",
        access_token: str | None = None,
        rate: float = 600.0,
        timeout: float = 10.0,
        session: aiohttp.ClientSession | None = None,
        connections: int = 64,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.pacer = TokenBucket(rate)
        self._session = LazySession(session, connections=connections)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._headers = {
            "accept": "application/json",
            "accept-encoding": "gzip, deflate",
            "content-type": "application/json",
        }
        if access_token:
            self._headers["authorization"] = f"Bearer {access_token}"

    async def close(self) -> None:
        await self._session.close()

    async def send(self, messages: Sequence[PushMessage | dict[str, Any]], *, paced: bool = False,
                   access_token: str | None = None) -> list[Outcome]:
        """Send up to 100 messages; one Outcome per message, in order. `paced`: the caller has
        already taken these messages from `pacer` (so it can wait before it leases them).
        `access_token`: the sending app's own, instead of the client's default.

        A message whose token is malformed gets a PermanentDeviceFailure
        outcome without being sent. Failures of the whole request (network,
        timeout, 429, 5xx, 4xx, a malformed response) raise ProviderFailure.
        """
        if len(messages) > MAX_MESSAGES_PER_REQUEST:
            raise ValueError(f"Expo takes at most {MAX_MESSAGES_PER_REQUEST} messages per request")
        outcomes: list[Outcome | None] = [None] * len(messages)
        payloads, sent_at = [], []
        for index, message in enumerate(messages):
            try:
                payloads.append(_payload_of(message))
                sent_at.append(index)
            except ValueError as exc:
                failure = PermanentDeviceFailure("InvalidToken", str(exc))
                outcomes[index] = Outcome(ok=False, failure=failure)
        if payloads:
            if not paced:
                await self.pacer.acquire(len(payloads))
            body = await self._post("/--/api/v2/push/send", payloads, access_token)
            tickets = body.get("data")
            if not isinstance(tickets, list) or len(tickets) != len(payloads):
                raise TransientFailure("invalid_response", "ticket count does not match messages")
            for index, ticket in zip(sent_at, tickets, strict=True):
                outcomes[index] = _ticket_outcome(ticket)
        return outcomes  # type: ignore[return-value]  # every slot is filled above

    async def get_receipts(self, ticket_ids: Sequence[str], access_token: str | None = None) -> dict[str, Outcome]:
        """Receipts for up to 1,000 ticket ids; ids Expo has no receipt for yet are absent."""
        if len(ticket_ids) > MAX_RECEIPT_IDS_PER_REQUEST:
            raise ValueError(f"Expo takes at most {MAX_RECEIPT_IDS_PER_REQUEST} receipt ids")
        if not ticket_ids:
            return {}
        body = await self._post("/--/api/v2/push/getReceipts", {"ids": list(ticket_ids)}, access_token)
        receipts = body.get("data")
        if not isinstance(receipts, dict):
            raise TransientFailure("invalid_response", "receipts response has no data object")
        outcomes = {}
        for ticket_id, receipt in receipts.items():
            if not isinstance(receipt, dict):
                continue
            if receipt.get("status") == PushTicket.SUCCESS_STATUS:
                outcomes[ticket_id] = Outcome(ok=True, ticket_id=ticket_id, delivered=True)
            else:
                failure = _error_failure(receipt)
                outcomes[ticket_id] = Outcome(ok=False, ticket_id=ticket_id, failure=failure)
        return outcomes

    async def _post(self, path: str, document: Any, access_token: str | None = None) -> dict[str, Any]:
        headers = self._headers
        if access_token is not None:  # the sending app's own token
            headers = {**headers, "authorization": f"Bearer {access_token}"}
        try:
            async with self._session().post(
                self.base_url + path, data=orjson.dumps(document), headers=headers, timeout=self._timeout,
            ) as response:
                content = await response.read()
                status, retry_after = response.status, response.headers.get("retry-after")
        except TimeoutError as exc:  # aiohttp's own timeouts are TimeoutErrors too
            raise TransientFailure("timeout", repr(exc)) from exc
        except aiohttp.ClientError as exc:
            raise TransientFailure("network", repr(exc)) from exc
        try:
            body = orjson.loads(content)
        except orjson.JSONDecodeError:
            body = None
        errors = body.get("errors") if isinstance(body, dict) else None
        detail = _describe(errors) if errors else ""
        if status >= 400:
            raise failure_from_http_status(status, retry_after, device_scoped=False, message=detail)
        if errors:
            raise _request_error(errors, retry_after)
        if not isinstance(body, dict):
            raise TransientFailure("invalid_response", "Expo answered with a non-JSON body")
        return body


def _ticket_outcome(ticket: Any) -> Outcome:
    if not isinstance(ticket, dict):
        return Outcome(ok=False, failure=TransientFailure("invalid_response", "ticket"))
    if ticket.get("status") == PushTicket.SUCCESS_STATUS and ticket.get("id"):
        return Outcome(ok=True, ticket_id=ticket["id"])
    return Outcome(ok=False, failure=_error_failure(ticket))


def _error_failure(item: dict[str, Any]) -> ProviderFailure:
    details = item.get("details")
    code = details.get("error", "") if isinstance(details, dict) else ""
    return failure_from_expo_error(code, str(item.get("message", "")))


def _describe(errors: Any) -> str:
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return f"{first.get('code', '')}: {first.get('message', '')}"
    return str(errors)


def _request_error(errors: Any, retry_after_header: str | None) -> ProviderFailure:
    """Top-level `errors` under a 2xx status: classify by Expo's error code."""
    code = ""
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code = str(errors[0].get("code", ""))
    if code in _SERVER_SIDE_CODES:
        return TransientFailure(code, _describe(errors), parse_retry_after(retry_after_header))
    return PermanentMessageFailure(code or "request_error", _describe(errors))

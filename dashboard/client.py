"""The dashboard's one door to the Booper API.

Everything the dashboard knows about the service comes through this module:

* ``GraphQLClient``: a small typed async client (httpx) for queries and
  mutations. Its operations are the ``.graphql`` documents in
  ``dashboard/graphql/`` (one named operation per file, validated against
  ``schema.graphql`` by ``tests/dashboard/test_operations.py``).
* ``SubscriptionClient``: a graphql-transport-ws client (websockets) for the
  live view.
* ``ApiError`` and ``describe_error``: every failure (GraphQL error with an
  ``extensions.code``, an unreachable API, a malformed answer) becomes one
  exception type carrying words a person understands.

No other dashboard module imports httpx or websockets or knows the API's URL.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator
from functools import cache
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import httpx

OPERATIONS_DIR = Path(__file__).parent / "graphql"
DEFAULT_API_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 15.0


def api_url() -> str:
    """The API's base URL, from BOOPER_API_URL (no trailing slash)."""
    return os.environ.get("BOOPER_API_URL", DEFAULT_API_URL).rstrip("/")


def graphql_http_url() -> str:
    return f"{api_url()}/graphql"


def forwarding_headers(client_ip: str | None) -> dict[str, str]:
    """Who the dashboard speaks for: the browser's address in X-Forwarded-For, proved with the
    secret the API shares with the dashboard (BOOPER_PROXY_SECRET), so the API's throttles count
    each person, not the dashboard's server. Without the secret the API would ignore the header:
    nothing is sent."""
    secret = os.environ.get("BOOPER_PROXY_SECRET", "")
    if not secret or not client_ip:
        return {}
    return {"X-Forwarded-For": client_ip, "X-Booper-Proxy": secret}


def graphql_ws_url() -> str:
    base = api_url()
    if base.startswith("https://"):
        base = "wss://" + base[len("https://") :]
    elif base.startswith("http://"):
        base = "ws://" + base[len("http://") :]
    return f"{base}/graphql"


# --------------------------------------------------------------------------
# Operations


def operation_names() -> list[str]:
    return sorted(p.stem for p in OPERATIONS_DIR.glob("*.graphql"))


@cache
def operation(name: str) -> str:
    """The text of the named operation document."""
    path = OPERATIONS_DIR / f"{name}.graphql"
    if not path.is_file():
        raise KeyError(f"no GraphQL operation named {name!r}")
    return path.read_text()


# --------------------------------------------------------------------------
# Errors

# What each extensions.code means to a person using the dashboard.
ERROR_MESSAGES: dict[str, str] = {
    "UNAUTHENTICATED": "Your session has expired. Please log in again.",
    "FORBIDDEN": "You don't have permission to do that.",
    "NOT_FOUND": "We couldn't find that. It may have been deleted.",
    "BAD_USER_INPUT": "Please check what you entered.",
    "CONFLICT": "That already exists.",
    "RATE_LIMITED": "Too many requests right now. Please wait a moment and try again.",
    "QUOTA_EXCEEDED": (
        "This app has used up its daily notification quota. It resets at midnight UTC."
    ),
    "PAYLOAD_TOO_LARGE": (
        "This notification is too large: push providers accept at most 4 KB. Shorten the title, body or data."
    ),
    "INTERNAL_SERVER_ERROR": "Something went wrong on the server. Please try again.",
    "NETWORK": "Can't reach the Booper API. Check that it is running and try again.",
    "TIMEOUT": "The Booper API took too long to answer. Please try again.",
    "BAD_RESPONSE": "The Booper API gave an answer the dashboard doesn't understand.",
}

# Codes whose server message is written for the caller and worth showing.
_SHOW_SERVER_MESSAGE = {"BAD_USER_INPUT", "CONFLICT", "NOT_FOUND", "FORBIDDEN"}
_MAX_DETAIL = 200


def _clean_detail(message: str | None) -> str:
    """A server message made safe to show: one line, short, no internals."""
    if not message:
        return ""
    text = " ".join(str(message).split())
    lowered = text.lower()
    if "traceback" in lowered or "exception" in lowered or text.startswith(("{", "[")):
        return ""
    if len(text) > _MAX_DETAIL:
        text = text[: _MAX_DETAIL - 1].rstrip() + "…"
    return text


def describe_error(code: str, message: str | None = None, retry_after: float | None = None) -> str:
    """Words for a person, for an error code from the API (or a transport failure)."""
    if code == "RATE_LIMITED":
        if retry_after is not None and retry_after > 0:
            seconds = max(1, round(retry_after))
            unit = "second" if seconds == 1 else "seconds"
            return f"Too many requests right now. Try again in {seconds} {unit}."
        return ERROR_MESSAGES["RATE_LIMITED"]
    base = ERROR_MESSAGES.get(code)
    detail = _clean_detail(message)
    if base is None:
        return (
            f"Something went wrong: {detail}"
            if detail
            else "Something went wrong. Please try again."
        )
    if code in _SHOW_SERVER_MESSAGE and detail:
        if code == "BAD_USER_INPUT":
            return f"Please check what you entered: {detail}"
        return detail if detail.endswith((".", "!", "?")) else detail + "."
    return base


class ApiError(Exception):
    """A failed API call, with a machine code and words for a person."""

    def __init__(
        self,
        code: str,
        message: str | None = None,
        retry_after: float | None = None,
        field: str | None = None,
    ) -> None:
        self.code = code
        self.server_message = message
        self.retry_after = retry_after
        self.field = field
        self.message = describe_error(code, message, retry_after)
        super().__init__(self.message)

    @property
    def unauthenticated(self) -> bool:
        return self.code == "UNAUTHENTICATED"

    @classmethod
    def from_graphql(cls, error: Any) -> ApiError:
        if not isinstance(error, dict):
            return cls("BAD_RESPONSE")
        ext = error.get("extensions") or {}
        code = ext.get("code") if isinstance(ext, dict) else None
        retry = ext.get("retryAfter") if isinstance(ext, dict) else None
        try:
            retry_after = float(retry) if retry is not None else None
        except (TypeError, ValueError):
            retry_after = None
        field = ext.get("field") if isinstance(ext, dict) else None
        message = error.get("message")
        if not code:
            # A GraphQL validation error (the dashboard asked for something the
            # schema does not have) or an error without a code.
            code = "INTERNAL_SERVER_ERROR"
        return cls(str(code), message if isinstance(message, str) else None, retry_after, field)


# --------------------------------------------------------------------------
# Result types (what each operation returns; the data is plain JSON dicts)


class User(TypedDict):
    id: str
    email: str
    createdAt: NotRequired[str]


class AuthPayload(TypedDict):
    token: str
    user: User


class DeliveryCounts(TypedDict):
    pending: int
    sent: int
    delivered: int
    failed: int


class AppUsage(TypedDict):
    notificationsToday: int
    dailyQuota: int | None
    activeDevices: int
    deliveries: NotRequired[DeliveryCounts]


class ChannelRef(TypedDict):
    id: str
    name: NotRequired[str]
    visibility: NotRequired[str]


class App(TypedDict):
    id: str
    name: str
    plan: str
    createdAt: str
    channels: list[ChannelRef]
    usage: AppUsage


class ApiKey(TypedDict):
    id: str
    prefix: str
    createdAt: str
    lastUsedAt: NotRequired[str | None]
    revokedAt: NotRequired[str | None]


class CreatedApiKey(TypedDict):
    secret: str
    apiKey: ApiKey


class CreateAppPayload(TypedDict):
    app: App
    apiKey: CreatedApiKey


class DeliveryBucket(TypedDict):
    start: str
    sent: int
    delivered: int
    failed: int


class Channel(TypedDict):
    id: str
    name: str
    visibility: str
    subscriberCount: int
    createdAt: str


class Device(TypedDict):
    id: str
    platform: str
    token: str | None  # only for tokens the app registered itself
    tokenHint: str
    identifier: str | None
    active: bool
    createdAt: NotRequired[str]
    lastSeenAt: NotRequired[str | None]


class PageInfo(TypedDict):
    endCursor: str | None
    hasNextPage: bool


class Subscription(TypedDict):
    id: str
    createdAt: str
    device: Device


class SubscriberPage(TypedDict):
    nodes: list[Subscription]
    pageInfo: PageInfo


class AccessCode(TypedDict):
    code: str
    expiresAt: str
    identifier: str | None
    channels: list[ChannelRef]


class Notification(TypedDict):
    id: str
    title: str | None
    body: str | None
    status: str
    priority: str
    createdAt: str
    sendAt: str | None
    sentAt: str | None
    channel: ChannelRef
    deliveryCounts: DeliveryCounts
    data: NotRequired[Any]
    collapseKey: NotRequired[str | None]
    ttl: NotRequired[int | None]


class NotificationPage(TypedDict):
    nodes: list[Notification]
    pageInfo: PageInfo


class Delivery(TypedDict):
    id: str
    status: str
    attempts: int
    error: str | None
    ticketId: NotRequired[str | None]
    updatedAt: str
    device: Device
    notification: NotRequired[dict[str, Any]]


class DeliveryPage(TypedDict):
    nodes: list[Delivery]
    pageInfo: PageInfo


class SendInput(TypedDict, total=False):
    channelId: str
    channel: str
    title: str
    body: str
    data: Any
    priority: str
    collapseKey: str
    ttl: int
    sendAt: str
    idempotencyKey: str


# --------------------------------------------------------------------------
# HTTP client


class GraphQLClient:
    """Queries and mutations over HTTP, as the holder of ``token`` (a JWT)."""

    def __init__(
        self,
        token: str | None = None,
        url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        client_ip: str | None = None,
    ) -> None:
        self.token = token or None
        self.client_ip = client_ip
        self.url = url or graphql_http_url()
        self.timeout = timeout
        self._transport = transport

    def _headers(self) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            **forwarding_headers(self.client_ip),
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    async def execute(self, name: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run the named operation; its ``data`` or an ``ApiError``."""
        body = {"query": operation(name), "operationName": name, "variables": variables or {}}
        try:
            async with httpx.AsyncClient(timeout=self.timeout, transport=self._transport) as http:
                response = await http.post(self.url, json=body, headers=self._headers())
        except httpx.TimeoutException as exc:
            raise ApiError("TIMEOUT") from exc
        except httpx.HTTPError as exc:
            raise ApiError("NETWORK") from exc
        return self._result(response)

    @staticmethod
    def _result(response: httpx.Response) -> dict[str, Any]:
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if isinstance(payload, dict) and payload.get("errors"):
            errors = payload["errors"]
            raise ApiError.from_graphql(
                errors[0] if isinstance(errors, list) and errors else errors
            )
        if response.status_code == 429:
            retry = response.headers.get("retry-after")
            raise ApiError(
                "RATE_LIMITED", retry_after=float(retry) if retry and retry.isdigit() else None
            )
        if response.status_code == 413:
            raise ApiError("PAYLOAD_TOO_LARGE")
        if response.status_code == 401:
            raise ApiError("UNAUTHENTICATED")
        if response.status_code >= 500:
            raise ApiError("INTERNAL_SERVER_ERROR")
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
            raise ApiError("BAD_RESPONSE")
        return payload["data"]

    # -- auth ---------------------------------------------------------------

    async def sign_up(self, email: str, password: str) -> AuthPayload:
        data = await self.execute("SignUp", {"email": email, "password": password})
        return data["signUp"]

    async def log_in(self, email: str, password: str) -> AuthPayload:
        data = await self.execute("LogIn", {"email": email, "password": password})
        return data["logIn"]

    async def me(self) -> User | None:
        return (await self.execute("Me"))["me"]

    async def change_password(self, current: str, new: str) -> AuthPayload:
        variables = {"current": current, "new": new}
        return (await self.execute("ChangePassword", variables))["changePassword"]

    async def log_out_everywhere(self) -> bool:
        return bool((await self.execute("LogOutEverywhere"))["logOutEverywhere"])

    async def delete_account(self, password: str) -> bool:
        return bool((await self.execute("DeleteAccount", {"password": password}))["deleteAccount"])

    # -- apps ---------------------------------------------------------------

    async def apps(self) -> list[App]:
        return (await self.execute("Apps"))["apps"]

    async def create_app(self, name: str) -> CreateAppPayload:
        return (await self.execute("CreateApp", {"name": name}))["createApp"]

    async def rename_app(self, app_id: str, name: str) -> App:
        return (await self.execute("RenameApp", {"id": app_id, "name": name}))["renameApp"]

    async def web_push_public_key(self) -> str:
        return (await self.execute("WebPushPublicKey"))["webPushPublicKey"]

    async def delete_app(self, app_id: str) -> bool:
        return bool((await self.execute("DeleteApp", {"id": app_id}))["deleteApp"])

    async def app_overview(self, app_id: str) -> App:
        return self._found((await self.execute("AppOverview", {"id": app_id}))["app"])

    async def delivery_stats(self, app_id: str, hours: int = 24) -> list[DeliveryBucket]:
        app = self._found(
            (await self.execute("DeliveryStats", {"id": app_id, "hours": hours}))["app"]
        )
        return app["deliveryStats"]

    # -- API keys -----------------------------------------------------------

    async def api_keys(self, app_id: str) -> list[ApiKey]:
        return self._found((await self.execute("ApiKeys", {"id": app_id}))["app"])["apiKeys"]

    async def create_api_key(self, app_id: str) -> CreatedApiKey:
        return (await self.execute("CreateApiKey", {"appId": app_id}))["createApiKey"]

    async def revoke_api_key(self, key_id: str) -> ApiKey:
        return (await self.execute("RevokeApiKey", {"id": key_id}))["revokeApiKey"]

    # -- webhooks -----------------------------------------------------------

    async def webhook(self, app_id: str, events: int = 20) -> dict[str, Any] | None:
        return (await self.execute("Webhook", {"appId": app_id, "first": events}))["webhook"]

    async def webhook_secret(self, app_id: str) -> str:
        hook = self._found((await self.execute("WebhookSecret", {"appId": app_id}))["webhook"])
        return hook["secret"]

    async def set_webhook(self, app_id: str, url: str) -> dict[str, Any]:
        return (await self.execute("SetWebhook", {"appId": app_id, "url": url}))["setWebhook"]

    async def delete_webhook(self, app_id: str) -> bool:
        return bool((await self.execute("DeleteWebhook", {"appId": app_id}))["deleteWebhook"])

    async def rotate_webhook_secret(self, app_id: str) -> str:
        data = await self.execute("RotateWebhookSecret", {"appId": app_id})
        return data["rotateWebhookSecret"]["secret"]

    async def redeliver_webhook_event(self, event_id: str) -> dict[str, Any]:
        data = await self.execute("RedeliverWebhookEvent", {"id": event_id})
        return data["redeliverWebhookEvent"]

    # -- channels -----------------------------------------------------------

    async def channels(self, app_id: str) -> list[Channel]:
        return (await self.execute("Channels", {"appId": app_id}))["channels"]

    async def channel(self, channel_id: str) -> Channel:
        return self._found((await self.execute("Channel", {"id": channel_id}))["channel"])

    async def create_channel(self, app_id: str, name: str, visibility: str) -> Channel:
        variables = {"appId": app_id, "name": name, "visibility": visibility}
        return (await self.execute("CreateChannel", variables))["createChannel"]

    async def delete_channel(self, channel_id: str) -> bool:
        return bool((await self.execute("DeleteChannel", {"id": channel_id}))["deleteChannel"])

    async def subscribers(
        self, channel_id: str, first: int = 20, after: str | None = None
    ) -> SubscriberPage:
        variables = {"channelId": channel_id, "first": first, "after": after}
        return (await self.execute("Subscribers", variables))["subscribers"]

    # -- access codes ---------------------------------------------------------

    async def create_access_code(
        self,
        app_id: str,
        channels: list[str],
        identifier: str | None = None,
        expires_at: str | None = None,
    ) -> AccessCode:
        payload: dict[str, Any] = {"appId": app_id, "channels": channels}
        if identifier:
            payload["identifier"] = identifier
        if expires_at:
            payload["expiresAt"] = expires_at
        return (await self.execute("CreateAccessCode", {"input": payload}))["createAccessCode"]

    # -- notifications --------------------------------------------------------

    async def send_notification(self, payload: SendInput) -> Notification:
        return (await self.execute("SendNotification", {"input": dict(payload)}))[
            "sendNotification"
        ]

    async def notifications(
        self, app_id: str, first: int = 20, after: str | None = None, channel_id: str | None = None
    ) -> NotificationPage:
        variables = {"appId": app_id, "channelId": channel_id, "first": first, "after": after}
        return (await self.execute("Notifications", variables))["notifications"]

    async def notification(self, notification_id: str) -> Notification:
        data = await self.execute("Notification", {"id": notification_id})
        return self._found(data["notification"])

    async def deliveries(
        self, notification_id: str, first: int = 50, after: str | None = None
    ) -> DeliveryPage:
        variables = {"notificationId": notification_id, "first": first, "after": after}
        return (await self.execute("Deliveries", variables))["deliveries"]

    async def cancel_notification(self, notification_id: str) -> Notification:
        return (await self.execute("CancelNotification", {"id": notification_id}))[
            "cancelNotification"
        ]

    @staticmethod
    def _found(value: Any) -> Any:
        if value is None:
            raise ApiError("NOT_FOUND")
        return value


# --------------------------------------------------------------------------
# graphql-transport-ws client


class SubscriptionClient:
    """One graphql-transport-ws connection carrying any number of subscriptions.

    Usage::

        async with SubscriptionClient(token) as live:
            await live.subscribe("LiveNotifications", {"appId": app_id})
            while True:
                event = await live.next_event(timeout=1.0)  # None on timeout
                ...
    """

    PROTOCOL = "graphql-transport-ws"

    def __init__(
        self,
        token: str | None,
        url: str | None = None,
        connect_timeout: float = 10.0,
        client_ip: str | None = None,
    ) -> None:
        self.token = token
        self.client_ip = client_ip
        self.url = url or graphql_ws_url()
        self.connect_timeout = connect_timeout
        self._ws: Any = None
        self._ops: dict[str, str] = {}

    async def __aenter__(self) -> SubscriptionClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        import websockets  # the dashboard's only websocket user

        try:
            self._ws = await asyncio.wait_for(
                websockets.connect(
                    self.url,
                    subprotocols=[self.PROTOCOL],
                    open_timeout=self.connect_timeout,
                    additional_headers=forwarding_headers(self.client_ip),
                ),
                self.connect_timeout + 1,
            )
        except (OSError, TimeoutError) as exc:
            raise ApiError("NETWORK") from exc
        except Exception as exc:  # handshake refused (HTTP status), bad URL
            raise ApiError("NETWORK") from exc
        payload = {"authorization": f"Bearer {self.token}"} if self.token else {}
        await self._send({"type": "connection_init", "payload": payload})
        deadline = asyncio.get_running_loop().time() + self.connect_timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                await self.close()
                raise ApiError("TIMEOUT")
            message = await self._recv(remaining)
            if message is None:
                continue
            kind = message.get("type")
            if kind == "connection_ack":
                return
            if kind == "ping":
                await self._send({"type": "pong"})

    async def close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            try:
                await ws.close()
            except Exception:
                pass

    @property
    def connected(self) -> bool:
        return self._ws is not None

    async def subscribe(self, name: str, variables: dict[str, Any] | None = None) -> str:
        op_id = uuid.uuid4().hex
        self._ops[op_id] = name
        await self._send(
            {
                "id": op_id,
                "type": "subscribe",
                "payload": {
                    "query": operation(name),
                    "operationName": name,
                    "variables": variables or {},
                },
            }
        )
        return op_id

    async def next_event(self, timeout: float | None = None) -> tuple[str, dict[str, Any]] | None:  # noqa: ASYNC109
        """The next ``(operation name, data)``; None when ``timeout`` passes first.

        Raises ApiError when the server reports an error for a subscription or
        the connection closes.
        """
        message = await self._recv(timeout)
        if message is None:
            return None
        kind = message.get("type")
        if kind == "ping":
            await self._send({"type": "pong"})
            return None
        op_name = self._ops.get(str(message.get("id")), "")
        if kind == "next":
            payload = message.get("payload") or {}
            if payload.get("errors"):
                raise ApiError.from_graphql(payload["errors"][0])
            return op_name, payload.get("data") or {}
        if kind == "error":
            errors = message.get("payload") or [{}]
            raise ApiError.from_graphql(
                errors[0] if isinstance(errors, list) and errors else errors
            )
        if kind == "complete":
            self._ops.pop(str(message.get("id")), None)
        return None

    async def events(self) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        while True:
            event = await self.next_event()
            if event is not None:
                yield event

    async def _send(self, message: dict[str, Any]) -> None:
        if self._ws is None:
            raise ApiError("NETWORK")
        try:
            await self._ws.send(json.dumps(message))
        except Exception as exc:
            await self.close()
            raise ApiError("NETWORK") from exc

    async def _recv(self, timeout: float | None) -> dict[str, Any] | None:  # noqa: ASYNC109
        if self._ws is None:
            raise ApiError("NETWORK")
        try:
            raw = await asyncio.wait_for(self._ws.recv(), timeout)
        except TimeoutError:
            return None
        except Exception as exc:  # ConnectionClosed and friends
            code = getattr(getattr(exc, "rcvd", None), "code", None)
            await self.close()
            if code in (4401, 4403):
                raise ApiError("UNAUTHENTICATED") from exc
            raise ApiError("NETWORK") from exc
        try:
            message = json.loads(raw)
        except ValueError:
            return None
        return message if isinstance(message, dict) else None

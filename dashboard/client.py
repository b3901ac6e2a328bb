"""The dashboard's one door to the Booper API.

Everything the dashboard knows about the service comes through this module:

* ``GraphQLClient``: a small typed async client (httpx) for queries and
  mutations. Its operations are the ``.graphql`` documents in
  ``dashboard/graphql/`` (one named operation per file, validated against
  ``schema.graphql`` by ``tests/dashboard/test_operations.py``).
* ``SubscriptionClient`` (dashboard.live_client): a graphql-transport-ws client
  for the live view.
* ``ApiError`` and ``describe_error`` (dashboard.api_errors): every failure
  becomes one exception type carrying words a person understands.

The people and engagement operations live in dashboard.client_people (mixins of
``GraphQLClient``).

No other dashboard module imports httpx or websockets or knows the API's URL.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import httpx

from dashboard.api_errors import ApiError, describe_error  # noqa: F401 (re-exported)
from dashboard.api_types import (  # noqa: F401 (the operations' result types)
    AccessCode,
    ApiKey,
    App,
    AuthPayload,
    Channel,
    CreateAppPayload,
    CreatedApiKey,
    DeliveryBucket,
    DeliveryPage,
    Notification,
    NotificationPage,
    SendInput,
    SubscriberPage,
    User,
)
from dashboard.client_people import EngagementCalls, PeopleCalls

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
# HTTP client


class GraphQLClient(PeopleCalls, EngagementCalls):
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

    # -- devices ------------------------------------------------------------

    async def devices(
        self,
        app_id: str,
        first: int = 20,
        after: str | None = None,
        search: str | None = None,
        active: bool | None = None,
    ) -> dict[str, Any]:
        variables = {
            "appId": app_id,
            "first": first,
            "after": after,
            "search": search or None,
            "active": active,
        }
        return (await self.execute("Devices", variables))["devices"]

    async def delete_subscription(self, subscription_id: str) -> bool:
        data = await self.execute("DeleteSubscription", {"id": subscription_id})
        return bool(data["deleteSubscription"])

    # -- push providers (the app's own credentials) --------------------------

    async def providers(self, app_id: str) -> dict[str, Any]:
        return self._found((await self.execute("Providers", {"id": app_id}))["app"])["providers"]

    async def set_provider(self, kind: str, app_id: str, value: Any) -> None:
        """kind: "expo" (value: a token), "fcm" or "apns" (value: the input); None removes."""
        name, arg = {
            "expo": ("SetExpoAccessToken", "token"),
            "fcm": ("SetFcmCredentials", "input"),
            "apns": ("SetApnsCredentials", "input"),
        }[kind]
        await self.execute(name, {"appId": app_id, arg: value})

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

    # -- notifications --------------------------------------------------------

    async def send_notification(self, payload: SendInput) -> Notification:
        return (await self.execute("SendNotification", {"input": dict(payload)}))[
            "sendNotification"
        ]

    async def notifications(
        self,
        app_id: str,
        first: int = 20,
        after: str | None = None,
        channel_id: str | None = None,
        status: str | None = None,
        since: str | None = None,
    ) -> NotificationPage:
        variables = {
            "appId": app_id,
            "channelId": channel_id,
            "first": first,
            "after": after,
            "status": status,
            "since": since,
        }
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

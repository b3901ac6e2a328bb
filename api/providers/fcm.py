"""FCM HTTP v1 client: OAuth2 access tokens from a service account, one message per request,
many requests in flight on one HTTP/2 connection.

The access token comes from a JWT bearer grant: a JWT signed (RS256) with the service account's
private key is exchanged at the token endpoint for a token valid about an hour. It is cached per
service account until REFRESH_MARGIN before it expires; concurrent senders share one exchange.
The token endpoint is Booper's setting (BOOPER_FCM_TOKEN_URL), never the key file's `token_uri`:
an app's owner must not make the server POST to a host of their choosing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jwt
import orjson

from api.providers.failures import CredentialsFailure, Outcome, TransientFailure, failure_from_fcm_error
from api.providers.h2client import H2Error, H2Response, H2Timeout
from api.providers.http2 import Http2Provider

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = 3600
REFRESH_MARGIN = 300  # seconds before expiry when a cached token is replaced
MAX_MESSAGE = 4096  # FCM's data + notification budget


@dataclass(frozen=True)
class ServiceAccount:
    project_id: str
    client_email: str
    private_key: str  # PEM


@dataclass
class _AccessToken:
    value: str
    expires_at: float


class FcmClient(Http2Provider):
    def __init__(self, base_url: str, token_url: str, *, timeout: float = 10.0, concurrency: int = 256,
                 verify: Any = True, clock: Callable[[], float] = time.time) -> None:
        super().__init__(timeout=timeout, concurrency=concurrency, verify=verify)
        self.base_url = base_url.rstrip("/")
        self.token_url = token_url
        self._clock = clock
        self._tokens: dict[ServiceAccount, _AccessToken] = {}
        self._exchanges: dict[ServiceAccount, asyncio.Future] = {}
        self.token_exchanges = 0  # how many grants were made (tests and metrics)

    async def access_token(self, account: ServiceAccount) -> str:
        cached = self._tokens.get(account)
        if cached is not None and self._clock() < cached.expires_at - REFRESH_MARGIN:
            return cached.value
        running = self._exchanges.get(account)
        if running is None:  # one exchange per account, however many senders wait for it
            running = self._exchanges[account] = asyncio.ensure_future(self._exchange(account))
            running.add_done_callback(lambda _: self._exchanges.pop(account, None))
        return await asyncio.shield(running)

    async def _exchange(self, account: ServiceAccount) -> str:
        now = int(self._clock())
        assertion = jwt.encode(
            {"iss": account.client_email, "scope": SCOPE, "aud": self.token_url, "iat": now,
             "exp": now + ASSERTION_LIFETIME},
            account.private_key, algorithm="RS256",
        )
        self.token_exchanges += 1
        try:
            response = await self._http().post(
                self.token_url, urlencode({"grant_type": GRANT_TYPE, "assertion": assertion}).encode(),
                {"content-type": "application/x-www-form-urlencoded"})
        except H2Timeout as exc:
            raise TransientFailure("timeout", f"token endpoint: {exc!r}") from exc
        except H2Error as exc:
            raise TransientFailure("network", f"token endpoint: {exc!r}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientFailure(f"token_http_{response.status_code}", "token endpoint")
        if response.status_code != 200:
            # invalid_grant and friends: the key was revoked or the account deleted.
            raise CredentialsFailure("THIRD_PARTY_AUTH_ERROR", f"token endpoint: {response.text[:200]}")
        body = response.json()
        token = _AccessToken(body["access_token"], self._clock() + float(body.get("expires_in", 3600)))
        self._tokens[account] = token
        return token.value

    async def send(self, account: ServiceAccount, message: dict[str, Any]) -> Outcome:
        """POST one message ({"token", "notification", "data", "android"}); an Outcome, never raised."""
        return await self.send_body(account, orjson.dumps({"message": message}))

    async def send_body(self, account: ServiceAccount, body: bytes) -> Outcome:
        """send() with the request's JSON body ({"message": ...}) already encoded."""
        try:
            token = await self.access_token(account)
        except (TransientFailure, CredentialsFailure) as failure:
            return Outcome(ok=False, failure=failure)
        url = f"{self.base_url}/v1/projects/{account.project_id}/messages:send"
        try:
            async with self.slots:
                response = await self._http().post(
                    url, body, {"authorization": f"Bearer {token}", "content-type": "application/json"})
        except H2Timeout as exc:
            return Outcome(ok=False, failure=TransientFailure("timeout", repr(exc)))
        except H2Error as exc:
            return Outcome(ok=False, failure=TransientFailure("network", repr(exc)))
        if response.status_code == 200:
            name = response.json().get("name")
            return Outcome(ok=True, delivered=True, ticket_id=name.rsplit("/", 1)[-1][:128] if name else None)
        if response.status_code == 401:
            self._tokens.pop(account, None)  # revoked or expired early: the next send exchanges again
        code, message_text = _fcm_error(response)
        return Outcome(ok=False, failure=failure_from_fcm_error(
            response.status_code, code, message_text, response.headers.get("retry-after")))


def _fcm_error(response: H2Response) -> tuple[str | None, str]:
    """errorCode from `error.details[]` (FcmError), else the Google status ("UNAVAILABLE")."""
    try:
        error = response.json().get("error", {})
    except ValueError:
        return None, response.text[:200]
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and detail.get("errorCode"):
            return detail["errorCode"], str(error.get("message", ""))[:200]
    return error.get("status"), str(error.get("message", ""))[:200]

"""APNs client: token-based auth (ES256 provider JWT), HTTP/2 with many concurrent streams.

The provider token is a JWT (kid = key id, iss = team id, iat) signed with the app's .p8 key.
Apple wants it reused for between 20 and 60 minutes: older than an hour it is refused
(ExpiredProviderToken), and replacing it more often than every 20 minutes is refused too
(TooManyProviderTokenUpdates). So a token is made once per key and replaced once it is
REFRESH_AFTER old (between the two bounds), never sooner.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
import orjson

from api.providers.failures import Outcome, PermanentMessageFailure, TransientFailure, failure_from_apns
from api.providers.h2client import H2Error, H2Timeout
from api.providers.http2 import Http2Provider

MAX_PAYLOAD = 4096
MAX_COLLAPSE_ID = 64
MIN_TOKEN_AGE = 20 * 60  # Apple: no more than one new token per 20 minutes
MAX_TOKEN_AGE = 60 * 60  # Apple: a token older than an hour is refused
REFRESH_AFTER = 50 * 60


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    team_id: str
    private_key: str  # PEM (EC P-256)


class ProviderTokens:
    """One provider token per signing key, replaced once it is REFRESH_AFTER old."""

    def __init__(self, clock: Callable[[], float] = time.time, refresh_after: float = REFRESH_AFTER) -> None:
        if not MIN_TOKEN_AGE <= refresh_after < MAX_TOKEN_AGE:
            raise ValueError("refresh_after must be between 20 and 60 minutes")
        self._clock = clock
        self._refresh_after = refresh_after
        self._tokens: dict[SigningKey, tuple[str, float]] = {}
        self.issued = 0

    def token(self, key: SigningKey) -> str:
        now = self._clock()
        cached = self._tokens.get(key)
        if cached is not None and now - cached[1] < self._refresh_after:
            return cached[0]
        token = jwt.encode({"iss": key.team_id, "iat": int(now)}, key.private_key, algorithm="ES256",
                           headers={"kid": key.key_id})
        self._tokens[key] = (token, now)
        self.issued += 1
        return token

    def forget(self, key: SigningKey, token: str) -> None:
        """Apple said this token expired (a clock skew): the next send makes a new one, if this
        one is at least MIN_TOKEN_AGE old (else Apple would refuse the update as too frequent)."""
        cached = self._tokens.get(key)
        if cached is not None and cached[0] == token and self._clock() - cached[1] >= MIN_TOKEN_AGE:
            del self._tokens[key]


@dataclass(frozen=True)
class ApnsRequest:
    device_token: str
    payload: bytes  # the JSON body ({"aps": ...})
    topic: str
    push_type: str = "alert"  # or "background"
    priority: int = 10  # 10 now, 5 when convenient (background pushes must use 5)
    expiration: int | None = None  # Unix time; 0: now or never
    collapse_id: str | None = None


class ApnsClient(Http2Provider):
    """APNs is HTTP/2 only; one connection carries many concurrent streams."""

    def __init__(self, production_url: str, development_url: str, *, timeout: float = 10.0,
                 concurrency: int = 256, verify: Any = True, clock: Callable[[], float] = time.time) -> None:
        super().__init__(timeout=timeout, concurrency=concurrency, verify=verify)
        self.urls = {True: production_url.rstrip("/"), False: development_url.rstrip("/")}
        self.tokens = ProviderTokens(clock)

    async def send(self, key: SigningKey, production: bool, request: ApnsRequest) -> Outcome:
        """POST /3/device/{token}; an Outcome, never raised."""
        return await self.send_to(key, production, request, request.device_token)

    async def send_to(self, key: SigningKey, production: bool, request: ApnsRequest, device_token: str) -> Outcome:
        """send() to `device_token` (one request's payload and options for many devices)."""
        if len(request.payload) > MAX_PAYLOAD:
            return Outcome(ok=False, failure=PermanentMessageFailure(
                "PayloadTooLarge", f"{len(request.payload)} bytes, at most {MAX_PAYLOAD}"))
        token = self.tokens.token(key)
        headers = {
            "authorization": f"bearer {token}",
            "apns-topic": request.topic,
            "apns-push-type": request.push_type,
            "apns-priority": str(request.priority),
        }
        if request.expiration is not None:
            headers["apns-expiration"] = str(request.expiration)
        if request.collapse_id:
            headers["apns-collapse-id"] = request.collapse_id
        url = f"{self.urls[production]}/3/device/{device_token}"
        try:
            async with self.slots:
                response = await self._http().post(url, request.payload, headers)
        except H2Timeout as exc:
            return Outcome(ok=False, failure=TransientFailure("timeout", repr(exc)))
        except H2Error as exc:
            return Outcome(ok=False, failure=TransientFailure("network", repr(exc)))
        if response.status_code == 200:
            return Outcome(ok=True, delivered=True, ticket_id=response.headers.get("apns-id"))
        try:
            reason = orjson.loads(response.content).get("reason")
        except (orjson.JSONDecodeError, AttributeError):
            reason = None
        if reason == "ExpiredProviderToken":
            self.tokens.forget(key, token)
        return Outcome(ok=False, failure=failure_from_apns(response.status_code, reason,
                                                           response.headers.get("retry-after")))


def collapse_id(collapse_key: str | None) -> str | None:
    """apns-collapse-id is at most 64 bytes, and a header value: a longer or non-ASCII key becomes
    its SHA-256 in hex (64 characters), the same for the same key, so collapsing still works."""
    if not collapse_key:
        return None
    if collapse_key.isascii() and collapse_key.isprintable() and len(collapse_key) <= MAX_COLLAPSE_ID:
        return collapse_key
    return hashlib.sha256(collapse_key.encode()).hexdigest()


def payload_bytes(payload: dict[str, Any]) -> bytes:
    return orjson.dumps(payload)

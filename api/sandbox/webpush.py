"""Sandbox Web Push service: hands out subscriptions, checks VAPID, decrypts and keeps payloads."""

import re
import secrets
import time
from typing import Any

import http_ece
import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from litestar import Request, Response, delete, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from api.sandbox.http import (
    b64url_decode,
    b64url_encode,
    fault_response,
    json_response,
    origin_of,
    pause,
)
from api.sandbox.state import SandboxState, Subscription

MAX_BODY = 4096
MAX_VAPID_LIFETIME = 24 * 3600
URGENCIES = frozenset({"very-low", "low", "normal", "high"})
_TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class VapidRejected(Exception):
    """The Authorization header does not prove the sender; carries the HTTP status to answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def _verify_token(token: str, key: str) -> dict[str, Any]:
    """Check an ES256 JWT's signature against the `k=` public key; return its claims."""
    try:
        header_b64, claims_b64, signature_b64 = token.split(".")
        header = orjson.loads(b64url_decode(header_b64))
        claims = orjson.loads(b64url_decode(claims_b64))
        signature = b64url_decode(signature_b64)
        public_key = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), b64url_decode(key))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise VapidRejected(401, f"malformed VAPID token: {exc}") from None
    if not isinstance(header, dict) or header.get("alg") != "ES256" or len(signature) != 64:
        raise VapidRejected(401, "VAPID token must be ES256")
    if not isinstance(claims, dict):
        raise VapidRejected(401, "VAPID claims must be an object")
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                               int.from_bytes(signature[32:], "big"))
    try:
        public_key.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise VapidRejected(401, "bad VAPID signature") from None
    return claims


class VapidChecker:
    """Verifies VAPID headers; a header already verified is only re-checked for aud and exp."""

    def __init__(self) -> None:
        self._verified: dict[str, tuple[str, dict[str, Any]]] = {}  # header -> (k, claims)

    def check(self, authorization: str | None, origin: str, subscription: Subscription) -> None:
        if not authorization:
            raise VapidRejected(401, "missing VAPID Authorization header")
        known = self._verified.get(authorization)
        if known is None:
            scheme, _, params = authorization.partition(" ")
            if scheme.lower() != "vapid":
                raise VapidRejected(401, "Authorization scheme must be vapid")
            fields = dict(part.strip().partition("=")[::2] for part in params.split(","))
            if not fields.get("t") or not fields.get("k"):
                raise VapidRejected(401, "VAPID header needs t= and k=")
            known = (fields["k"], _verify_token(fields["t"], fields["k"]))
            if len(self._verified) > 10_000:
                self._verified.clear()
            self._verified[authorization] = known
        key, claims = known
        now = time.time()
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or not now < exp <= now + MAX_VAPID_LIFETIME + 60:
            raise VapidRejected(401, "VAPID token expired or exp more than 24 h ahead")
        if str(claims.get("aud", "")).rstrip("/").lower() != origin:
            raise VapidRejected(401, f"VAPID aud must be {origin}")
        if not claims.get("sub"):
            raise VapidRejected(401, "VAPID sub is missing")
        bound = subscription.application_server_key
        if bound is not None and b64url_decode(bound) != b64url_decode(key):
            raise VapidRejected(403, "VAPID key does not match the subscription's")


def webpush_routes(state: SandboxState) -> list[HTTPRouteHandler]:
    """Route handlers bound to one sandbox state."""
    vapid = VapidChecker()

    @post("/webpush/subscriptions", status_code=201)
    async def subscribe(request: Request) -> Response:
        raw = await request.body()
        try:
            options = orjson.loads(raw) if raw.strip() else {}
        except orjson.JSONDecodeError:
            return Response(b"the body must be JSON or empty", status_code=400)
        server_key = options.get("applicationServerKey") if isinstance(options, dict) else None
        private_key = ec.generate_private_key(ec.SECP256R1())
        auth = secrets.token_bytes(16)
        sub_id = secrets.token_urlsafe(16)
        state.subscriptions[sub_id] = Subscription(private_key, auth, server_key)
        public = private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return json_response({
            "id": sub_id,
            "endpoint": f"{origin_of(request)}/webpush/push/{sub_id}",
            "keys": {"p256dh": b64url_encode(public), "auth": b64url_encode(auth)},
        }, 201)

    @delete("/webpush/subscriptions/{sub_id:str}", status_code=204)
    async def unsubscribe(sub_id: FromPath[str]) -> None:
        # The browser unsubscribed: later pushes get 410 Gone, as from a real service.
        state.subscriptions.pop(sub_id, None)

    @post("/webpush/push/{sub_id:str}", status_code=201)
    async def push(request: Request, sub_id: FromPath[str]) -> Response:
        state.count("requests.webpush")
        state.in_flight += 1
        state.peak_in_flight = max(state.peak_in_flight, state.in_flight)
        try:
            await pause(state)
            return await _receive(request, sub_id)
        finally:
            state.in_flight -= 1

    async def _receive(request: Request, sub_id: str) -> Response:
        if state.faults:
            rule = state.faults.for_request("webpush", [sub_id])
            if rule is not None:
                return await fault_response(rule, state)
        subscription = state.subscriptions.get(sub_id)
        if subscription is None:
            return Response(b"no such subscription", status_code=410)
        headers = request.headers
        ttl = headers.get("ttl")
        if ttl is None or not ttl.isdigit():
            return Response(b"TTL header required", status_code=400)
        urgency = headers.get("urgency")
        topic = headers.get("topic")
        if (urgency is not None and urgency not in URGENCIES) or (
            topic is not None and not _TOPIC.match(topic)
        ):
            return Response(b"bad Urgency or Topic header", status_code=400)
        try:
            vapid.check(headers.get("authorization"), origin_of(request), subscription)
        except VapidRejected as exc:
            return Response(str(exc).encode(), status_code=exc.status)
        if headers.get("content-encoding", "").lower() != "aes128gcm":
            return Response(b"Content-Encoding must be aes128gcm", status_code=415)
        body = await request.body()
        if len(body) > MAX_BODY:
            return Response(b"payload too large", status_code=413)
        try:
            plaintext = http_ece.decrypt(body, private_key=subscription.private_key,
                                         auth_secret=subscription.auth, version="aes128gcm")
        except (http_ece.ECEException, ValueError) as exc:
            return Response(f"cannot decrypt: {exc}".encode(), status_code=400)
        try:
            text: str | None = plaintext.decode()
        except UnicodeDecodeError:
            text = None
        state.store({
            "provider": "webpush", "to": sub_id, "payload": text,
            "payload_b64": b64url_encode(plaintext),
            "headers": {"ttl": int(ttl), "urgency": urgency, "topic": topic},
            "received_at": time.time(),
        })
        state.count("messages.webpush")
        return Response(b"", status_code=201)

    return [subscribe, unsubscribe, push]

"""Sandbox Web Push service: hands out subscriptions, checks VAPID, keeps payloads, decrypts them on read."""

import re
import secrets
import struct
import time
from collections.abc import Mapping
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
from litestar.types import Receive, Scope, Send

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
PUSH_PATH = "/webpush/push/"
_RECORD_HEADER = struct.Struct("!16sIB")  # aes128gcm (RFC 8188): salt, record size, keyid length
_TEXT = "text/plain; charset=utf-8"
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
        self._verified: dict[str, tuple[bytes, dict[str, Any]]] = {}  # header -> (k, claims)

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
            claims = _verify_token(fields["t"], fields["k"])
            known = (b64url_decode(fields["k"]), claims)
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
        if bound is not None and b64url_decode(bound) != key:
            raise VapidRejected(403, "VAPID key does not match the subscription's")


def _aes128gcm_problem(body: bytes) -> str | None:
    """Why `body` cannot be an RFC 8291 message (one aes128gcm record, keyid = the sender's
    ephemeral P-256 key), or None. Checks the framing only: a push service has no private key."""
    if len(body) < _RECORD_HEADER.size:
        return "body shorter than the aes128gcm header"
    _, record_size, id_length = _RECORD_HEADER.unpack_from(body)
    key_id = body[_RECORD_HEADER.size:_RECORD_HEADER.size + id_length]
    ciphertext = len(body) - _RECORD_HEADER.size - id_length
    if id_length != 65 or len(key_id) != 65:
        return "keyid must be the sender's 65-byte P-256 public key"
    if record_size < 18 or not 17 <= ciphertext <= record_size:
        return "the payload must be one aes128gcm record"
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key_id)
    except ValueError:
        return "keyid is not a P-256 point"
    return None


def open_sealed(records: list[dict[str, Any]], state: SandboxState) -> list[dict[str, Any]]:
    """Decrypt, in place, the Web Push messages among `records` that nobody has read yet.

    The receiver keeps what it was sent and decrypts only here, when someone looks: a real
    push service never decrypts (it has no private key), and decrypting every message on
    arrival cost the sandbox as much CPU as the sender's encryption in fan-out benchmarks.
    A message that does not decrypt (accepted, as a real service would) gets an `error`.
    """
    for record in records:
        sealed = record.pop("_sealed", None)
        if sealed is None:
            continue
        body, subscription = sealed
        try:
            plaintext = http_ece.decrypt(body, private_key=subscription.private_key,
                                         auth_secret=subscription.auth, version="aes128gcm")
        except (http_ece.ECEException, ValueError) as exc:
            record["error"] = f"cannot decrypt: {exc}"
            state.count("undecryptable.webpush")
            continue
        try:
            record["payload"] = plaintext.decode()
        except UnicodeDecodeError:
            record["payload"] = None
        record["payload_b64"] = b64url_encode(plaintext)
    return records


class PushService:
    """The push endpoint (RFC 8030 section 5) of the sandbox, apart from HTTP plumbing.

    `asgi` answers POST /webpush/push/{id} straight from the ASGI scope: the endpoint is the far
    end of every Web Push benchmark, and Litestar's routing, request and response objects cost
    more than the checks themselves. It serves only when no fault rules and no latency are set;
    otherwise the Litestar route (`webpush_routes`) applies them and calls the same `accept`.
    """

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.vapid = VapidChecker()

    def serves(self, scope: Scope) -> bool:
        """Whether `asgi` answers this request (a push, with no faults or latency to apply)."""
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].startswith(PUSH_PATH):
            return False
        sub_id = scope["path"][len(PUSH_PATH):]
        return bool(sub_id) and "/" not in sub_id and not self.state.faults and self.state.latency_ms <= 0

    def check(self, sub_id: str, headers: Mapping[str, str], origin: str) -> tuple[int, bytes] | None:
        """Refuse a push on its headers alone (status and reason), or None to read the body."""
        subscription = self.state.subscriptions.get(sub_id)
        if subscription is None:
            return 410, b"no such subscription"
        ttl = headers.get("ttl")
        if ttl is None or not ttl.isdigit():
            return 400, b"TTL header required"
        urgency = headers.get("urgency")
        topic = headers.get("topic")
        if (urgency is not None and urgency not in URGENCIES) or (
            topic is not None and not _TOPIC.match(topic)
        ):
            return 400, b"bad Urgency or Topic header"
        try:
            self.vapid.check(headers.get("authorization"), origin, subscription)
        except VapidRejected as exc:
            return exc.status, str(exc).encode()
        if headers.get("content-encoding", "").lower() != "aes128gcm":
            return 415, b"Content-Encoding must be aes128gcm"
        return None

    def accept(self, sub_id: str, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
        """Keep a push whose headers passed `check`; decrypted later by `open_sealed`."""
        if len(body) > MAX_BODY:
            return 413, b"payload too large"
        problem = _aes128gcm_problem(body)
        if problem is not None:
            return 400, f"not an aes128gcm message: {problem}".encode()
        state = self.state
        state.store({
            "provider": "webpush", "to": sub_id, "payload": None, "payload_b64": None,
            "headers": {"ttl": int(headers["ttl"]), "urgency": headers.get("urgency"),
                        "topic": headers.get("topic")},
            "received_at": time.time(),
            "_sealed": (body, state.subscriptions[sub_id]),
        })
        state.count("messages.webpush")
        return 201, b""

    async def asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = self.state
        state.count("requests.webpush")
        state.in_flight += 1
        state.peak_in_flight = max(state.peak_in_flight, state.in_flight)
        try:
            sub_id = scope["path"][len(PUSH_PATH):]
            headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
            origin = f"{scope['scheme']}://{headers.get('host') or 'localhost'}".lower()
            answer = self.check(sub_id, headers, origin)
            if answer is None:
                chunks, more = [], True
                while more:
                    message = await receive()
                    if message["type"] != "http.request":
                        return  # the client went away
                    chunks.append(message.get("body", b""))
                    more = message.get("more_body", False)
                answer = self.accept(sub_id, headers, b"".join(chunks))
            status, content = answer
            await send({"type": "http.response.start", "status": status, "headers": [
                (b"content-type", _TEXT.encode()), (b"content-length", str(len(content)).encode())]})
            await send({"type": "http.response.body", "body": content})
        finally:
            state.in_flight -= 1


def webpush_routes(state: SandboxState, service: PushService) -> list[HTTPRouteHandler]:
    """Route handlers bound to one sandbox state; `service` holds the push endpoint's logic."""

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
        """The push endpoint while faults or latency are set (else `PushService.asgi` answers)."""
        state.count("requests.webpush")
        state.in_flight += 1
        state.peak_in_flight = max(state.peak_in_flight, state.in_flight)
        try:
            await pause(state)
            if state.faults:
                rule = state.faults.for_request("webpush", [sub_id])
                if rule is not None:
                    return await fault_response(rule, state)
            headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in request.scope["headers"]}
            answer = service.check(sub_id, headers, origin_of(request))
            if answer is None:
                answer = service.accept(sub_id, headers, await request.body())
            return Response(answer[1], status_code=answer[0], media_type=_TEXT)
        finally:
            state.in_flight -= 1

    return [subscribe, unsubscribe, push]

"""VAPID (RFC 8292): one ES256 token per push-service origin, signed once and reused."""

import base64
import binascii
import re
import time
from urllib.parse import urlsplit

import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

_B64URL = re.compile(r"^[A-Za-z0-9_-]*={0,2}$")
_JWT_HEADER = b"eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9"  # {"typ":"JWT","alg":"ES256"}
MAX_LIFETIME = 24 * 3600  # RFC 8292: exp no more than 24 hours ahead
RENEW_MARGIN = 3600  # re-sign once less than this much validity remains


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url with or without padding; ValueError on anything else."""
    if not isinstance(text, str) or not _B64URL.match(text):
        raise ValueError("not base64url")
    text = text.rstrip("=")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


def generate_vapid_private_key() -> str:
    """A new P-256 VAPID private key as base64url of the raw 32-byte scalar."""
    key = ec.generate_private_key(ec.SECP256R1())
    return b64url_encode(key.private_numbers().private_value.to_bytes(32, "big"))


def load_vapid_private_key(private_key: str) -> ec.EllipticCurvePrivateKey:
    """Accept PEM, or base64url of the raw scalar (as `web-push generate-vapid-keys` prints)."""
    text = private_key.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
    else:
        raw = b64url_decode(text)
        if len(raw) == 32:
            key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
        else:  # py_vapid also stores keys as base64url DER
            key = serialization.load_der_private_key(raw, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("a VAPID key must be a P-256 (secp256r1) EC private key")
    return key


def origin_of(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) push endpoint: {endpoint!r}")
    return f"{parts.scheme}://{parts.netloc}".lower()


class VapidSigner:
    """Signs VAPID tokens for an application server key and caches one per origin.

    Signing costs about 0.14 ms and RFC 8292 lets a token be reused until it
    expires, so a token is signed once per push-service origin and reused for
    every message to that origin until less than an hour of validity is left
    (the margin covers clock skew and requests in flight). Never per message.
    The claims are built fresh here; pywebpush's helpers write `aud`/`exp`
    into the dict they are given, so a shared claims dict is never handed out.
    """

    def __init__(self, private_key: str, subject: str, lifetime: int = 12 * 3600) -> None:
        if not (subject.startswith("mailto:") or subject.startswith("https://")):
            raise ValueError("the VAPID subject must be a mailto: or https: URL")
        if not RENEW_MARGIN < lifetime <= MAX_LIFETIME:
            raise ValueError(f"lifetime must be in ({RENEW_MARGIN}, {MAX_LIFETIME}] seconds")
        self._key = load_vapid_private_key(private_key)
        self.subject = subject
        self.lifetime = lifetime
        self.public_key_b64url = b64url_encode(
            self._key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )
        self.signatures_made = 0  # observable for tests and metrics
        self._by_origin: dict[str, tuple[str, int]] = {}  # origin -> (header, exp)

    def headers_for(self, endpoint: str) -> dict[str, str]:
        """The Authorization header for a push endpoint (`vapid t=<jwt>,k=<public key>`)."""
        origin = origin_of(endpoint)
        now = int(time.time())
        cached = self._by_origin.get(origin)
        if cached is None or cached[1] - now < RENEW_MARGIN:
            exp = now + self.lifetime
            cached = (f"vapid t={self._sign(origin, exp)},k={self.public_key_b64url}", exp)
            self._by_origin[origin] = cached
        return {"Authorization": cached[0]}

    def _sign(self, audience: str, exp: int) -> str:
        claims = orjson.dumps({"aud": audience, "exp": exp, "sub": self.subject})
        signing_input = _JWT_HEADER + b"." + b64url_encode(claims).encode()
        r, s = decode_dss_signature(self._key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        self.signatures_made += 1
        # JWS ES256 wants the raw 64-byte r||s, not DER.
        signature = b64url_encode(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
        return f"{signing_input.decode()}.{signature}"

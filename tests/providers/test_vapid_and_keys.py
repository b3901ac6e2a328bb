"""VAPID signing and caching, subscription key validation and Web Push topics."""

import base64
import re
import time

import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from api.providers.vapid import b64url_decode, b64url_encode
from api.providers.webpush import (
    VapidSigner,
    generate_vapid_private_key,
    topic_from_collapse_key,
    validate_subscription_keys,
)

ENDPOINT = "https://push.example.net/wpush/v2/abc"


def public_point(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def test_raw_and_pem_keys_give_the_same_public_key():
    raw = generate_vapid_private_key()
    assert len(b64url_decode(raw)) == 32 and "=" not in raw
    key = ec.derive_private_key(int.from_bytes(b64url_decode(raw), "big"), ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    from_raw = VapidSigner(raw, "mailto:ops@booper.test")
    from_pem = VapidSigner(pem, "mailto:ops@booper.test")
    assert from_raw.public_key_b64url == from_pem.public_key_b64url == b64url_encode(
        public_point(key))
    assert len(b64url_decode(from_raw.public_key_b64url)) == 65


def test_token_verifies_independently_with_pyjwt():
    signer = VapidSigner(generate_vapid_private_key(), "mailto:ops@booper.test")
    header = signer.headers_for(ENDPOINT)["Authorization"]
    match = re.fullmatch(r"vapid t=([^,]+),k=([A-Za-z0-9_-]+)", header)
    assert match and match.group(2) == signer.public_key_b64url
    public_key = ec.EllipticCurvePublicKey.from_encoded_point(
        ec.SECP256R1(), b64url_decode(match.group(2)))
    claims = jwt.decode(match.group(1), public_key, algorithms=["ES256"],
                        audience="https://push.example.net")
    assert claims["sub"] == "mailto:ops@booper.test"
    assert abs(claims["exp"] - (time.time() + 12 * 3600)) < 5


def test_token_cached_per_origin_and_renewed_near_expiry():
    signer = VapidSigner(generate_vapid_private_key(), "mailto:ops@booper.test", lifetime=7200)
    with time_machine.travel(1_800_000_000, tick=False) as clock:
        first = signer.headers_for(ENDPOINT)
        assert signer.headers_for(ENDPOINT.replace("abc", "def")) == first
        assert signer.signatures_made == 1
        signer.headers_for("https://fcm.googleapis.com/fcm/send/xyz")
        assert signer.signatures_made == 2
        clock.shift(3599)  # 3601 s of validity left: still reused
        assert signer.headers_for(ENDPOINT) == first
        clock.shift(2)  # under an hour left: signed afresh
        assert signer.headers_for(ENDPOINT) != first
        assert signer.signatures_made == 3


def test_signer_rejects_bad_configuration():
    key = generate_vapid_private_key()
    with pytest.raises(ValueError):
        VapidSigner(key, "ops@booper.test")  # not a mailto: or https: URL
    with pytest.raises(ValueError):
        VapidSigner(key, "mailto:ops@booper.test", lifetime=25 * 3600)
    with pytest.raises(ValueError):
        VapidSigner("AAAA", "mailto:ops@booper.test")


def valid_keys() -> tuple[str, str]:
    point = public_point(ec.generate_private_key(ec.SECP256R1()))
    return b64url_encode(point), b64url_encode(bytes(range(16)))


def test_valid_keys_pass_with_or_without_padding():
    p256dh, auth = valid_keys()
    validate_subscription_keys(p256dh, auth)
    padded = base64.urlsafe_b64encode(b64url_decode(p256dh)).decode()
    validate_subscription_keys(padded, auth + "==")


def test_off_curve_point_is_rejected():
    p256dh, auth = valid_keys()
    point = bytearray(b64url_decode(p256dh))
    point[-1] ^= 1  # y no longer satisfies the curve equation
    with pytest.raises(ValueError, match="not a point on the P-256 curve"):
        validate_subscription_keys(b64url_encode(bytes(point)), auth)


@pytest.mark.parametrize(
    ("p256dh", "auth", "message"),
    [
        ("not base64!", None, "p256dh is not base64url"),
        (b64url_encode(b"\x04" + bytes(63)), None, "65-byte"),
        (b64url_encode(b"\x02" + bytes(64)), None, "65-byte"),  # wrong point form
        (None, b64url_encode(bytes(15)), "16 bytes"),
        (None, "a+b/", "auth is not base64url"),  # standard, not url-safe, alphabet
    ],
)
def test_bad_keys_are_rejected(p256dh, auth, message):
    good_p256dh, good_auth = valid_keys()
    with pytest.raises(ValueError, match=message):
        validate_subscription_keys(p256dh or good_p256dh, auth or good_auth)


def test_topic_from_collapse_key():
    assert topic_from_collapse_key("news") == "news"
    assert topic_from_collapse_key("a" * 32) == "a" * 32
    long_topic = topic_from_collapse_key("a" * 33)
    assert len(long_topic) == 32 and re.fullmatch(r"[A-Za-z0-9_-]{32}", long_topic)
    assert topic_from_collapse_key("a" * 33) == long_topic  # deterministic
    spaced = topic_from_collapse_key("order 42")
    assert len(spaced) == 32 and spaced != long_topic

"""RFC 8291 aes128gcm encryption: byte-compatible with http_ece, the reference implementation."""

import os

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from api.providers.vapid import b64url_encode
from api.providers.webpush import MAX_PLAINTEXT, encrypt_payload


def browser() -> tuple[ec.EllipticCurvePrivateKey, bytes, str, str]:
    """A subscription's private key and auth secret, and its keys as a browser publishes them."""
    key = ec.generate_private_key(ec.SECP256R1())
    auth = os.urandom(16)
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return key, auth, b64url_encode(point), b64url_encode(auth)


@pytest.mark.parametrize("size", [1, 100, MAX_PLAINTEXT])
def test_same_bytes_as_http_ece_for_the_same_salt_and_key(size):
    key, auth, p256dh, auth_b64 = browser()
    payload, salt = os.urandom(size), os.urandom(16)
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    ours = encrypt_payload(payload, p256dh, auth_b64, _salt=salt, _ephemeral=ephemeral)
    reference = http_ece.encrypt(
        payload, salt=salt, private_key=ephemeral, auth_secret=auth, version="aes128gcm",
        dh=key.public_key().public_bytes(serialization.Encoding.X962,
                                         serialization.PublicFormat.UncompressedPoint))
    assert ours == reference
    assert len(encrypt_payload(os.urandom(MAX_PLAINTEXT), p256dh, auth_b64)) == 4096


@pytest.mark.parametrize("size", [0, 1, 3000, MAX_PLAINTEXT])
def test_http_ece_decrypts_it(size):
    key, auth, p256dh, auth_b64 = browser()
    payload = os.urandom(size)
    body = encrypt_payload(payload, p256dh, auth_b64)
    assert http_ece.decrypt(body, private_key=key, auth_secret=auth, version="aes128gcm") == payload
    # A new salt and ephemeral key for every message.
    again = encrypt_payload(payload, p256dh, auth_b64)
    assert again[:16] != body[:16] and again[21:86] != body[21:86]


def test_bad_subscription_keys_are_value_errors():
    _, _, p256dh, auth_b64 = browser()
    with pytest.raises(ValueError):
        encrypt_payload(b"x", "AAAA", auth_b64)
    with pytest.raises(ValueError):
        encrypt_payload(b"x", p256dh, b64url_encode(bytes(15)))
    with pytest.raises(ValueError):
        encrypt_payload(b"x", p256dh, "not base64url!")

"""Device keys (dk_...) and device verification codes.

A device key is 256 random bits, returned once by registerDevice or verifyDevice; only its
SHA-256 is stored (like API keys: no stretching needed for that much randomness, and the lookup
stays one indexed query). Verification codes are short (a person may have to read one off a
debug screen), so they are kept as a keyed HMAC, expire, and burn after a few wrong tries.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

DEVICE_KEY_PREFIX = "dk_"
VERIFICATION_DIGITS = 8
VERIFICATION_TTL = 600  # seconds
VERIFICATION_TRIES = 5  # wrong codes before the code is burned


def new_device_key() -> tuple[str, str]:
    """(secret, hash): the secret goes to the device once, the hash to the database."""
    secret = DEVICE_KEY_PREFIX + secrets.token_urlsafe(32)
    return secret, hash_device_key(secret)


def hash_device_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_verification_code() -> str:
    return f"{secrets.randbelow(10**VERIFICATION_DIGITS):0{VERIFICATION_DIGITS}d}"


def hash_verification_code(device_id: int, code: str, secret_key: str) -> str:
    # Bound to the device: a code hash copied to another row proves nothing there.
    return hmac.new(secret_key.encode(), f"device-verification:{device_id}:{code}".encode(), hashlib.sha256).hexdigest()


def token_hint(token: str) -> str:
    """The last characters of a push token, for recognition without revealing it."""
    core = token.rstrip("]") if token.endswith("]") else token
    return core[-6:]

"""Secrets stored in the database (webhook signing secrets, later provider credentials) are
sealed with AES-256-GCM under a key derived from the server's secret key.

Why: a copy of the database (a backup, a stolen disk, a read-only SQL injection) must not hand
over what lets someone forge an app's webhooks or push as the app. The secret key lives outside
the database (BOOPER_SECRET_KEY, or the 0600 file in the data directory).

- One key per purpose, derived with HKDF-SHA256 (info names the purpose), so a ciphertext of
  one kind is never accepted as another.
- The row it belongs to is bound as associated data (`context`, e.g. "app:42"): a sealed value
  copied into another row does not open there.
- Stored as `enc:v1:<base64url(nonce || ciphertext || tag)>`, a 96-bit random nonce per seal.

Changing the secret key makes sealed values unreadable (webhooks then fail with a clear error
until setWebhook is called again).
"""

from __future__ import annotations

import base64
import binascii
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "enc:v1:"
_NONCE = 12
_SALT = b"booper secrets at rest"


class SealError(ValueError):
    """A sealed value that does not open: wrong key, wrong row or purpose, or tampered with."""


@lru_cache(maxsize=32)
def _key(secret_key: str, purpose: str) -> AESGCM:
    if not secret_key:
        raise SealError("no secret key to derive the encryption key from")
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT,
                   info=f"booper/at-rest/v1/{purpose}".encode()).derive(secret_key.encode())
    return AESGCM(derived)


def _aad(purpose: str, context: str) -> bytes:
    return f"{purpose}\x00{context}".encode()


def is_sealed(value: str | None) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def seal(plaintext: str, secret_key: str, *, purpose: str, context: str) -> str:
    """Encrypt `plaintext` for storage in the row named by `context`."""
    nonce = os.urandom(_NONCE)
    sealed = _key(secret_key, purpose).encrypt(nonce, plaintext.encode(), _aad(purpose, context))
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode("ascii")


def unseal(value: str, secret_key: str, *, purpose: str, context: str) -> str:
    """The plaintext of a sealed value; SealError if it does not open."""
    if not is_sealed(value):
        raise SealError("not a sealed value")
    text = value[len(PREFIX):]
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise SealError("malformed sealed value") from exc
    if len(raw) < _NONCE + 16:
        raise SealError("malformed sealed value")
    try:
        plain = _key(secret_key, purpose).decrypt(raw[:_NONCE], raw[_NONCE:], _aad(purpose, context))
    except InvalidTag as exc:
        raise SealError("the sealed value does not open with this server's secret key") from exc
    return plain.decode()

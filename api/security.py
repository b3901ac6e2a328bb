"""Passwords (argon2), dashboard JWTs (HS256) and API key secrets (bk_..., only a hash stored)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

API_KEY_PREFIX = "bk_"
_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so a log-in attempt takes as long
# either way and does not reveal which addresses have accounts.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def issue_jwt(user_id: int, secret: str, ttl: int) -> str:
    now = int(time.time())
    claims = {"sub": str(user_id), "iat": now, "exp": now + ttl, "typ": "user"}
    return jwt.encode(claims, secret, algorithm="HS256")


def decode_jwt(token: str, secret: str) -> int | None:
    """The user id of a valid, unexpired token; None otherwise."""
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})
        return int(claims["sub"]) if claims.get("typ") == "user" else None
    except (jwt.PyJWTError, ValueError):
        return None


def new_api_key() -> tuple[str, str, str]:
    """(secret, prefix, hash). The secret is shown once; we keep the prefix and the hash."""
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    return secret, secret[:10], hash_api_key(secret)


def hash_api_key(secret: str) -> str:
    # API keys carry 256 bits of randomness: a plain SHA-256 is enough (no
    # stretching needed) and keeps the per-request lookup cheap.
    return hashlib.sha256(secret.encode()).hexdigest()


def hash_access_code(code: str, secret: str) -> str:
    return hmac.new(secret.encode(), f"access-code:{code}".encode(), hashlib.sha256).hexdigest()


def new_access_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"

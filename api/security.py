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


def issue_jwt(user_id: int, secret: str, ttl: int, *, version: int | None = None) -> str:
    """A dashboard JWT. `version` is the user's token version (the `ver` claim): bumping it in the
    database (logOutEverywhere) ends every token issued before, and a token without it is refused
    by api.users.service.user_for_jwt."""
    now = int(time.time())
    claims = {"sub": str(user_id), "iat": now, "exp": now + ttl, "typ": "user"}
    if version is not None:
        claims["ver"] = version
    return jwt.encode(claims, secret, algorithm="HS256")


def decode_jwt_claims(token: str, secret: str) -> tuple[int, int | None] | None:
    """(user id, token version or None) of a valid, unexpired user token; None otherwise. Only the
    signature and expiry are checked here: user_for_jwt also checks the version."""
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})
        if claims.get("typ") != "user":
            return None
        version = claims.get("ver")
        return int(claims["sub"]), version if type(version) is int else None
    except (jwt.PyJWTError, ValueError, TypeError):
        return None


def decode_jwt(token: str, secret: str) -> int | None:
    """The user id of a validly signed, unexpired token; None otherwise. Does NOT check the token
    version (a logged-out or deleted user's token passes): use api.users.service.user_for_jwt."""
    claims = decode_jwt_claims(token, secret)
    return claims[0] if claims else None


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


def new_access_code(digits: int = 6) -> str:
    """`digits` uniformly random decimal digits (leading zeros kept): 10^digits equally likely codes."""
    return f"{secrets.randbelow(10**digits):0{digits}d}"

"""Sign up, log in, and the JWT check: signature, expiry and the user's current token version."""

from __future__ import annotations

import asyncio
import secrets

from api import validation
from api.errors import Conflict, Forbidden, Unauthenticated
from api.live.guard import access_changed
from api.security import decode_jwt_claims, hash_password, verify_password
from api.ttlcache import TtlCache
from api.users.tables import User

# How long a process trusts a (user, token version) pair it has checked: logOutEverywhere and
# account deletion take effect at once in the process that did them, within this in the others
# (the same bound as the API-key cache). Keyed by the pair, not the user: a token issued after a
# log-out elsewhere (a newer version) is a miss, read from the database, never wrongly refused.
VERSION_TTL = 5.0
_checked = TtlCache(VERSION_TTL)


def new_token_version() -> int:
    """A random start (1 .. 2^30): leaves room for 2^30 log-outs in a signed 32-bit column."""
    return 1 + secrets.randbelow(2**30)


async def sign_up(email: str, password: str) -> dict:
    email = validation.email(email)
    password_hash = await asyncio.to_thread(hash_password, validation.password(password))
    rows = (
        await User.insert(User(email=email, password_hash=password_hash, token_version=new_token_version()))
        .on_conflict(action="DO NOTHING")
        .returning(User.id, User.email, User.created_at, User.token_version)
    )
    if not rows:
        raise Conflict("an account with this e-mail already exists")
    return rows[0]


async def log_in(email: str, password: str) -> dict:
    row = await User.select().where(User.email == email.strip().lower()).first()
    # argon2 takes tens of milliseconds of CPU on purpose: keep it off the event loop.
    valid = await asyncio.to_thread(verify_password, row["password_hash"] if row else None, password)
    if not valid or row is None:
        raise Unauthenticated("wrong e-mail or password")
    return row


async def get_user(user_id: int) -> dict | None:
    return await User.select(User.id, User.email, User.created_at).where(User.id == user_id).first()


async def user_for_jwt(token: str, secret_key: str) -> int | None:
    """The user id of a JWT that is validly signed, unexpired, and of the user's current token
    version; None otherwise (deleted user, logged out everywhere, token from before versions)."""
    claims = decode_jwt_claims(token, secret_key)
    if claims is None or claims[1] is None:
        return None
    user_id, version = claims
    valid = _checked.get((user_id, version))
    if valid is None:
        row = await User.select(User.token_version).where(User.id == user_id).first()
        valid = row is not None and row["token_version"] == version
        _checked.put((user_id, version), valid)
    return user_id if valid else None


async def log_out_everywhere(user_id: int) -> bool:
    """Every JWT of this user issued so far stops working."""
    rows = await User.update({User.token_version: User.token_version + 1}).where(
        User.id == user_id
    ).returning(User.token_version)
    if rows:  # only the version just replaced can have been cached as valid
        _checked.forget((user_id, rows[0]["token_version"] - 1))
        await access_changed(f"user:{user_id}")  # open sockets and streams of those JWTs end
    return bool(rows)


async def change_password(user_id: int, current: str, new: str) -> dict:
    """A new password after checking the current one; every JWT issued before stops working (as
    logOutEverywhere). The user's row with the new token version, for the caller's new JWT."""
    row = await User.select(User.password_hash, User.token_version).where(User.id == user_id).first()
    if row is None:
        raise Unauthenticated("invalid or expired token: log in again")
    new = validation.password(new)
    if not await asyncio.to_thread(verify_password, row["password_hash"], current):
        raise Forbidden("wrong password")
    password_hash = await asyncio.to_thread(hash_password, new)
    rows = await User.update(
        {User.password_hash: password_hash, User.token_version: User.token_version + 1}
    ).where(User.id == user_id).returning(User.id, User.email, User.created_at, User.token_version)
    if not rows:
        raise Unauthenticated("invalid or expired token: log in again")
    _checked.forget((user_id, row["token_version"]))
    await access_changed(f"user:{user_id}")  # other sessions' sockets and streams end
    return rows[0]


async def delete_account(user_id: int, password: str) -> None:
    """Delete the user and their apps (with everything in them), after checking the password."""
    from api.apps import service as apps

    row = await User.select(User.password_hash, User.token_version).where(User.id == user_id).first()
    if row is None:
        raise Unauthenticated("invalid or expired token: log in again")
    if not await asyncio.to_thread(verify_password, row["password_hash"], password):
        raise Forbidden("wrong password")
    # App by app through the apps service, so whatever it does on deletion (API-key cache, live
    # streams) happens for each; the user row's cascade would only delete rows.
    for app in await apps.apps_of_user(user_id):
        await apps.delete_app(app["id"])
    await User.delete().where(User.id == user_id)
    _checked.forget((user_id, row["token_version"]))
    await access_changed(f"user:{user_id}")

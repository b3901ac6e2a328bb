"""Sign up and log in."""

from __future__ import annotations

import asyncio

from api import validation
from api.errors import Conflict, Unauthenticated
from api.security import hash_password, verify_password
from api.users.tables import User


async def sign_up(email: str, password: str) -> dict:
    email = validation.email(email)
    password_hash = await asyncio.to_thread(hash_password, validation.password(password))
    rows = (
        await User.insert(User(email=email, password_hash=password_hash))
        .on_conflict(action="DO NOTHING")
        .returning(User.id, User.email, User.created_at)
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

"""Query.me, Mutation.signUp / logIn / logOutEverywhere / changePassword / deleteAccount."""

from __future__ import annotations

import strawberry

from api.graphql import permissions as perms
from api.graphql.context import Info
from api.security import issue_jwt
from api.users import service
from api.users.types import AuthPayload, User


async def _throttle(info: Info, action: str) -> None:
    await info.context.runtime.limiter.hit(
        info.context.runtime.settings.auth_rate, action, info.context.client_bucket,
        message="too many attempts from this address; wait before trying again",
    )


def _payload(info: Info, row: dict) -> AuthPayload:
    settings = info.context.runtime.settings
    token = issue_jwt(row["id"], info.context.runtime.secret_key, settings.jwt_ttl, version=row["token_version"])
    return AuthPayload(token=token, user=User.from_row(row))


@strawberry.type
class UsersQuery:
    @strawberry.field(description="The dashboard user behind the JWT, else null.")
    async def me(self, info: Info) -> User | None:
        v = await info.context.viewer()
        if v.kind != "user":
            return None
        row = await service.get_user(v.user_id)  # type: ignore[arg-type]
        return User.from_row(row) if row else None


@strawberry.type
class UsersMutation:
    @strawberry.mutation
    async def sign_up(self, info: Info, email: str, password: str) -> AuthPayload:
        await _throttle(info, "sign-up")
        return _payload(info, await service.sign_up(email, password))

    @strawberry.mutation
    async def log_in(self, info: Info, email: str, password: str) -> AuthPayload:
        # Per address and per account: password guessing is slow from one place, and one
        # account cannot be hammered from many.
        await _throttle(info, "log-in")
        await info.context.runtime.limiter.hit(
            info.context.runtime.settings.auth_rate, "log-in-account", email.strip().lower()[:320],
            message="too many log-in attempts for this account; wait before trying again",
        )
        return _payload(info, await service.log_in(email, password))

    @strawberry.mutation(description="Every JWT of the signed-in user issued before now stops working.")
    async def log_out_everywhere(self, info: Info) -> bool:
        return await service.log_out_everywhere(await perms.require_user(info))

    @strawberry.mutation(
        description="A new password for the signed-in user (the current one is checked). Every"
        " earlier JWT stops working, as with logOutEverywhere; the payload's token replaces the"
        " caller's."
    )
    async def change_password(self, info: Info, current: str, new: str) -> AuthPayload:
        user_id = await _password_checked_user(info, "change-password")
        return _payload(info, await service.change_password(user_id, current, new))

    @strawberry.mutation(
        description="Delete the signed-in user's account and their apps, with everything in them."
    )
    async def delete_account(self, info: Info, password: str) -> bool:
        user_id = await _password_checked_user(info, "delete-account")
        await service.delete_account(user_id, password)
        return True


async def _password_checked_user(info: Info, action: str) -> int:
    """The signed-in user, for an operation that checks their password. A stolen JWT must not
    become a fast password oracle: throttled like logIn, per address and per account, first."""
    user_id = await perms.require_user(info)
    await _throttle(info, action)
    await info.context.runtime.limiter.hit(
        info.context.runtime.settings.auth_rate, f"{action}-user", str(user_id),
        message="too many attempts for this account; wait before trying again",
    )
    return user_id

"""Query.me, Mutation.signUp / logIn / logOutEverywhere / deleteAccount."""

from __future__ import annotations

import strawberry

from api.graphql import permissions as perms
from api.graphql.context import Info
from api.security import issue_jwt
from api.users import service
from api.users.types import AuthPayload, User


async def _throttle(info: Info, action: str) -> None:
    await info.context.runtime.limiter.hit(
        info.context.runtime.settings.auth_rate, action, info.context.client_ip,
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
        description="Delete the signed-in user's account and their apps, with everything in them."
    )
    async def delete_account(self, info: Info, password: str) -> bool:
        user_id = await perms.require_user(info)
        # A stolen JWT must not become a fast password oracle: throttled like logIn, per address
        # and per account, before the password is checked.
        await _throttle(info, "delete-account")
        await info.context.runtime.limiter.hit(
            info.context.runtime.settings.auth_rate, "delete-account-user", str(user_id),
            message="too many attempts for this account; wait before trying again",
        )
        await service.delete_account(user_id, password)
        return True

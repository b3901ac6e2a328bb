"""Query.me, Mutation.signUp / logIn."""

from __future__ import annotations

import strawberry

from api.graphql.context import Info
from api.security import issue_jwt
from api.users import service
from api.users.types import AuthPayload, User


def _payload(info: Info, row: dict) -> AuthPayload:
    settings = info.context.runtime.settings
    token = issue_jwt(row["id"], info.context.runtime.secret_key, settings.jwt_ttl)
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
        return _payload(info, await service.sign_up(email, password))

    @strawberry.mutation
    async def log_in(self, info: Info, email: str, password: str) -> AuthPayload:
        return _payload(info, await service.log_in(email, password))

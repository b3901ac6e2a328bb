"""GraphQL types of users."""

from __future__ import annotations

import strawberry

from api.graphql.scalars import DateTime


@strawberry.type
class User:
    id: strawberry.ID
    email: str
    created_at: DateTime

    @classmethod
    def from_row(cls, row: dict) -> User:
        return cls(id=strawberry.ID(str(row["id"])), email=row["email"], created_at=row["created_at"])


@strawberry.type
class AuthPayload:
    token: str
    user: User

"""GraphQL types of access codes."""

from __future__ import annotations

import strawberry

from api.channels.types import Channel
from api.graphql.scalars import DateTime


@strawberry.input
class CreateAccessCodeInput:
    channels: list[str] = strawberry.field(description="Channel names or ids of the caller's app.")
    identifier: str | None = strawberry.field(
        default=None, description="How the device will be known to the app (a user id, an e-mail)."
    )
    expires_at: DateTime | None = strawberry.field(
        default=None, description="Default: 5 minutes from now; at most 24 hours."
    )
    app_id: strawberry.ID | None = strawberry.field(
        default=None, description="The app, for dashboard users (an API key implies its app)."
    )


@strawberry.type
class AccessCode:
    code: str = strawberry.field(
        description="BOOPER_ACCESS_CODE_DIGITS digits (8 by default); shown once."
    )
    expires_at: DateTime
    channels: list[Channel]
    identifier: str | None

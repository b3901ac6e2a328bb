"""GraphQL types of access codes."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from api.access_codes import listing
from api.channels.types import Channel
from api.graphql.context import Info
from api.graphql.loaders import loader
from api.graphql.nodes import RowNode
from api.graphql.pagination import PageInfo
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
    id: strawberry.ID = strawberry.field(description="The code's id in accessCodes.")
    code: str = strawberry.field(
        description="BOOPER_ACCESS_CODE_DIGITS digits (8 by default); shown once."
    )
    expires_at: DateTime
    channels: list[Channel]
    identifier: str | None


@strawberry.enum(description="VALID: redeemable until expiresAt. USED: redeemed (once). EXPIRED: never redeemed.")
class AccessCodeState(Enum):
    VALID = "VALID"
    USED = "USED"
    EXPIRED = "EXPIRED"


@strawberry.type(
    description="An access code as its app's owner sees it after creating it: never the code itself"
    " (a secret shown once by createAccessCode), only its last digits."
)
class IssuedAccessCode(RowNode):
    @strawberry.field(description="The code's last 2 digits; null for codes created before hints were kept.")
    def code_hint(self) -> str | None:
        return self.row["code_hint"]

    @strawberry.field
    def identifier(self) -> str | None:
        return self.row["identifier"]

    @strawberry.field(description="The channels it grants (at most 50).")
    async def channels(self, info: Info) -> list[Channel]:
        rows = await loader(info, "access_code_channels", listing.channels_of_codes).load(self.row["id"])
        return [Channel(row=r, access=self.access) for r in rows]

    @strawberry.field
    def created_at(self) -> DateTime:
        return self.row["created_at"]

    @strawberry.field
    def expires_at(self) -> DateTime:
        return self.row["expires_at"]

    @strawberry.field
    def redeemed_at(self) -> DateTime | None:
        return self.row["redeemed_at"]

    @strawberry.field(
        description="The tokenHint of the device that redeemed it; null if unused or that device is gone."
    )
    async def redeemed_by_hint(self, info: Info) -> str | None:
        if self.row["redeemed_by"] is None:
            return None
        return await loader(info, "access_code_redeemers", listing.token_hints).load(self.row["redeemed_by"])

    @strawberry.field
    def state(self) -> AccessCodeState:
        return AccessCodeState(listing.state(self.row, dt.datetime.now(dt.UTC)))


@strawberry.type
class IssuedAccessCodeConnection:
    nodes: list[IssuedAccessCode]
    page_info: PageInfo

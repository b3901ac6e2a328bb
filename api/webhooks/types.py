"""GraphQL types of webhooks."""

from __future__ import annotations

import orjson
import strawberry

from api.graphql.scalars import JSON, DateTime
from api.webhooks import service


@strawberry.type
class WebhookEvent:
    id: strawberry.ID
    type: str
    status: str = strawberry.field(description="PENDING, DELIVERED or FAILED.")
    attempts: int
    last_error: str | None
    created_at: DateTime
    delivered_at: DateTime | None
    data: JSON

    @classmethod
    def from_row(cls, row: dict) -> WebhookEvent:
        payload = row["payload"]
        return cls(
            id=strawberry.ID(f"evt_{row['id']}"),
            type=row["event_type"],
            status=row["status"],
            attempts=row["attempts"],
            last_error=row["last_error"],
            created_at=row["created_at"],
            delivered_at=row["delivered_at"],
            data=orjson.loads(payload) if isinstance(payload, str | bytes) else payload,
        )


@strawberry.type
class Webhook:
    row: strawberry.Private[dict]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row["id"]))

    @strawberry.field
    def url(self) -> str:
        return self.row["url"]

    @strawberry.field(description="Signs every event (Booper-Signature header); owner only.")
    def secret(self, info: strawberry.Info) -> str:
        # Stored sealed; opened only here (for the owner, whom the resolvers checked) and to sign.
        return service.webhook_secret(self.row, info.context.runtime.secret_key)

    @strawberry.field
    def created_at(self) -> DateTime:
        return self.row["created_at"]

    @strawberry.field(description="The latest events, newest first.")
    async def events(self, first: int = 20) -> list[WebhookEvent]:
        from api.errors import BadUserInput

        if not 1 <= first <= 100:
            raise BadUserInput("first must be between 1 and 100")
        return [WebhookEvent.from_row(r) for r in await service.recent_events(self.row["id"], first)]

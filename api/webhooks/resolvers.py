"""Query.webhook, Mutation.setWebhook / deleteWebhook (the app's owner only: the secret signs)."""

from __future__ import annotations

import strawberry

from api.graphql import permissions as perms
from api.graphql.context import Info
from api.webhooks import service
from api.webhooks.types import Webhook


@strawberry.type
class WebhooksQuery:
    @strawberry.field(description="The app's webhook, if it has one (owner only).")
    async def webhook(self, info: Info, app_id: strawberry.ID) -> Webhook | None:
        app, _ = await perms.app_admin(info, app_id, owner_only=True)
        row = await service.get_webhook(app["id"])
        return Webhook(row=row) if row else None


@strawberry.type
class WebhooksMutation:
    @strawberry.mutation(
        description="Set the app's webhook URL (replacing any); returns a new signing secret. Events: "
        + ", ".join(service.EVENT_TYPES)
        + "."
    )
    async def set_webhook(self, info: Info, app_id: strawberry.ID, url: str) -> Webhook:
        app, _ = await perms.app_admin(info, app_id, owner_only=True)
        return Webhook(row=await service.set_webhook(app["id"], url, info.context.runtime.settings))

    @strawberry.mutation(description="Remove the app's webhook and its pending events.")
    async def delete_webhook(self, info: Info, app_id: strawberry.ID) -> bool:
        app, _ = await perms.app_admin(info, app_id, owner_only=True)
        return await service.delete_webhook(app["id"])

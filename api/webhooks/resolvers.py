"""Query.webhook, Mutation.setWebhook / deleteWebhook / rotateWebhookSecret /
redeliverWebhookEvent (the app's owner only: the secret signs)."""

from __future__ import annotations

import strawberry

from api.graphql import permissions as perms
from api.graphql.context import Info
from api.ids import parse_id
from api.webhooks import service
from api.webhooks.types import Webhook, WebhookEvent


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

    @strawberry.mutation(
        description="A new signing secret for the app's webhook; the old one stops signing at once."
    )
    async def rotate_webhook_secret(self, info: Info, app_id: strawberry.ID) -> Webhook:
        app, _ = await perms.app_admin(info, app_id, owner_only=True)
        return Webhook(row=await service.rotate_secret(app["id"], info.context.runtime.settings))

    @strawberry.mutation(
        description="Send a FAILED webhook event again, with fresh attempts (the app's owner)."
    )
    async def redeliver_webhook_event(self, info: Info, id: strawberry.ID) -> WebhookEvent:
        user_id = await perms.require_user(info)
        event_id = parse_id(str(id).removeprefix("evt_"), "webhook event")
        row, webhook_id = await service.redeliver(event_id, user_id)
        await service.kick(info.context.runtime, {webhook_id})
        return WebhookEvent.from_row(row)

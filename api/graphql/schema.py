"""The schema: each domain's Query / Mutation / Subscription pieces composed in one place."""

from __future__ import annotations

import strawberry
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, ParserCache, QueryDepthLimiter, ValidationCache
from strawberry.schema.config import StrawberryConfig

from api.access_codes.resolvers import AccessCodesMutation
from api.apps.resolvers import AppsMutation, AppsQuery
from api.channels.resolvers import ChannelsMutation, ChannelsQuery
from api.devices.resolvers import DevicesMutation
from api.errors import BooperError
from api.graphql.context import Info
from api.graphql.errors import ShapeErrors
from api.graphql.text import RefuseUnstorableText
from api.live.shared import SharedEventExecutor
from api.notifications.resolvers import NotificationsMutation, NotificationsQuery, NotificationsSubscription
from api.users.resolvers import UsersMutation, UsersQuery
from api.webhooks.resolvers import WebhooksMutation, WebhooksQuery


@strawberry.type
class WebPushQuery:
    @strawberry.field(description="The VAPID public key (base64url) a browser passes as applicationServerKey.")
    def web_push_public_key(self, info: Info) -> str:
        from api.delivery.providers import vapid_public_key

        return vapid_public_key(info.context.runtime.settings)


@strawberry.type
class Query(UsersQuery, AppsQuery, ChannelsQuery, NotificationsQuery, WebPushQuery, WebhooksQuery):
    pass


@strawberry.type
class Mutation(
    UsersMutation,
    AppsMutation,
    ChannelsMutation,
    DevicesMutation,
    AccessCodesMutation,
    NotificationsMutation,
    WebhooksMutation,
):
    pass


@strawberry.type
class Subscription(NotificationsSubscription):
    pass


class BooperSchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:  # type: ignore[override]
        """Log only the unexpected: a refusal with a code (NOT_FOUND, BAD_USER_INPUT...) is the API
        working as designed, not something for the operator's error log."""
        unexpected = [
            e for e in errors if e.original_error is not None and not isinstance(e.original_error, BooperError)
        ]
        if unexpected:
            super().process_errors(unexpected, execution_context)


MAX_ALIASES = 30


def build_schema(*, introspection: bool = True) -> strawberry.Schema:
    from strawberry.extensions import DisableIntrospection

    # Built once per process: limiter rules constructed per request would defeat
    # the validation cache (STACK-NOTES.md).
    extensions = [
        ShapeErrors,
        RefuseUnstorableText,
        QueryDepthLimiter(max_depth=10),
        MaxTokensLimiter(max_token_count=2000),
        MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        ParserCache(maxsize=512),
        ValidationCache(maxsize=512),
    ]
    if not introspection:
        extensions.append(DisableIntrospection())
    return BooperSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True),
        execution_context_class=SharedEventExecutor,
    )


schema = build_schema()

"""The schema: each domain's Query / Mutation / Subscription pieces composed in one place."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.config import StrawberryConfig

from api import logs
from api.access_codes.resolvers import AccessCodesMutation, AccessCodesQuery
from api.apps.credentials_api import CredentialsMutation
from api.apps.resolvers import AppsMutation, AppsQuery
from api.channels.resolvers import ChannelsMutation, ChannelsQuery
from api.devices.app_devices import AppDevicesQuery
from api.devices.resolvers import DevicesMutation
from api.engagement.resolvers import EngagementMutation, EngagementQuery
from api.errors import BooperError
from api.graphql.context import Info
from api.graphql.cost import cost_limiter
from api.graphql.deadline import within_deadline
from api.graphql.errors import ShapeErrors
from api.graphql.text import RefuseUnstorableText
from api.live.shared import SharedEventExecutor
from api.notifications.resolvers import NotificationsMutation, NotificationsQuery, NotificationsSubscription
from api.outage import is_outage
from api.people.resolvers import PeopleMutation, PeopleQuery
from api.settings import get_settings
from api.users.resolvers import UsersMutation, UsersQuery
from api.webhooks.resolvers import WebhooksMutation, WebhooksQuery


@strawberry.type
class WebPushQuery:
    @strawberry.field(description="The VAPID public key (base64url) a browser passes as applicationServerKey.")
    def web_push_public_key(self, info: Info) -> str:
        from api.delivery.providers import vapid_public_key

        return vapid_public_key(info.context.runtime.settings)


@strawberry.type
class Query(UsersQuery, AppsQuery, ChannelsQuery, NotificationsQuery, WebPushQuery, WebhooksQuery,
            AppDevicesQuery, PeopleQuery, EngagementQuery, AccessCodesQuery):
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
    EngagementMutation,
    CredentialsMutation,
    PeopleMutation,
):
    pass


@strawberry.type
class Subscription(NotificationsSubscription):
    pass


class _NoStreamHooks:
    """`async with` that does nothing: the stream-result hooks of extensions that have none."""

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


_NO_STREAM_HOOKS = _NoStreamHooks()


def _overrides(extensions: list[SchemaExtension], hook: str) -> bool:
    return any(getattr(type(e), hook) is not getattr(SchemaExtension, hook) for e in extensions)


class LeanExtensionsRunner(SchemaExtensionsRunner):
    """Strawberry's runner builds a hook context over every extension for every streamed result,
    and asks each for results it never has: for a live event, per subscriber, about a fifth of
    the cost of sending it. Skipped when no extension implements the hook."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stream_hooks = _overrides(self.extensions, "on_stream_result")
        self._results = _overrides(self.extensions, "get_results")

    def on_stream_result(self, result: Any) -> Any:
        return super().on_stream_result(result) if self._stream_hooks else _NO_STREAM_HOOKS

    async def get_extensions_results(self, ctx: Any) -> dict[str, Any]:
        if self._results:
            return await super().get_extensions_results(ctx)
        return dict(ctx.extensions_results)


class BooperSchema(strawberry.Schema):
    async def execute(self, query: Any, variable_values: Any = None, context_value: Any = None,  # noqa: PLR0913
                      root_value: Any = None, operation_name: Any = None, allowed_operation_types: Any = None,
                      operation_extensions: Any = None) -> Any:
        """HTTP operations run within the request deadline and stop when the client leaves."""
        execution = super().execute(query, variable_values, context_value, root_value, operation_name,
                                    allowed_operation_types, operation_extensions)
        request = getattr(context_value, "request", None)
        runtime = getattr(context_value, "runtime", None)
        if request is None or runtime is None:
            return await execution
        return await within_deadline(execution, seconds=runtime.settings.request_timeout, request=request)

    def create_extensions_runner(self, execution_context: Any, extensions: list[SchemaExtension]) -> Any:
        return LeanExtensionsRunner(execution_context=execution_context, extensions=extensions)

    def process_errors(self, errors, execution_context=None) -> None:  # type: ignore[override]
        """Log only the unexpected: a refusal with a code (NOT_FOUND, BAD_USER_INPUT...) is the API
        working as designed, not something for the operator's error log."""
        # A GraphQLError as the cause is graphql-core refusing input (a variable that does not
        # coerce, an unknown enum value): the caller's mistake, answered with a code.
        unexpected = [
            e
            for e in errors
            if e.original_error is not None and not isinstance(e.original_error, BooperError | GraphQLError)
            and not is_outage(e.original_error)  # a warning line (errors.py), not a bug report
        ]
        if unexpected:
            # Not Strawberry's logger: it prints the document (push tokens, codes) around the error.
            logs.log_unexpected_graphql_errors(unexpected, execution_context)


MAX_ALIASES = 30
MAX_TOKENS = 2000


def build_schema(*, introspection: bool = True) -> strawberry.Schema:
    from strawberry.extensions import DisableIntrospection

    settings = get_settings()
    # Built once per process: limiter rules constructed per request would defeat
    # the validation cache (STACK-NOTES.md).
    extensions = [
        ShapeErrors,
        RefuseUnstorableText,
        QueryDepthLimiter(max_depth=10),
        MaxTokensLimiter(max_token_count=MAX_TOKENS),
        MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        ParserCache(maxsize=512),
        ValidationCache(maxsize=512),
        # After ValidationCache: it costs the validated document with the request's variables.
        cost_limiter(max_cost=settings.max_query_cost, max_page=settings.max_page_size),
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

"""POST/GET /graphql and graphql-transport-ws on the same path: Strawberry's Litestar controller,
with the prepared sends, GraphQL-over-HTTP's two response types, and a coded GraphQL error body for
every request that cannot reach GraphQL (bad JSON, not UTF-8, too deep, wrong content type)."""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any, ClassVar

import orjson
from cross_web import HTTPException
from graphql import GraphQLError
from litestar import Request, Response
from litestar.background_tasks import BackgroundTasks
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException as LitestarHTTPException
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse
from strawberry.litestar import make_graphql_controller
from strawberry.litestar.controller import _context_getter_http
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from api.errors import ServiceUnavailable
from api.graphql.context import context_getter
from api.graphql.errors import shape, suggestions_allowed
from api.graphql.fastpath import PreparedSends
from api.http import negotiation
from api.http.websocket import LiveTransportWSHandler
from api.outage import is_outage
from api.settings import Settings

log = logging.getLogger("booper.http")
OVER_WEBSOCKET = ("subscriptions are served over WebSocket (graphql-transport-ws on /graphql), "
                  "not over HTTP")
ALLOWED = {
    "POST": frozenset({OperationType.QUERY, OperationType.MUTATION}),
    "GET": frozenset({OperationType.QUERY}),
}


def _accept(request: Request) -> str:
    for name, value in request.scope["headers"]:
        if name == b"accept":
            return value.decode("latin-1")
    return ""


def _is_request_error(result: ExecutionResult) -> bool:
    """Refused before execution (syntax, validation, variables, limits): no data, no error with a path."""
    return result.data is None and bool(result.errors) and all(e.path is None for e in result.errors)


def graphql_controller(settings: Settings, schema: Any, prepared: PreparedSends) -> type:
    base = make_graphql_controller(
        schema,
        path="/graphql",
        context_getter=context_getter,
        graphql_ide="graphiql" if not settings.production else None,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        keep_alive=True,  # pings idle connections so proxies and dead peers are noticed
        keep_alive_interval=15,
    )

    class GraphQLController(base):  # type: ignore[misc, valid-type]
        # Strawberry provides the sub-response with sync_to_thread=True: a worker-thread hop on
        # every request for building an empty Response (about a sixth of a send's CPU).
        # Litestar resolves independent dependencies of one level concurrently, in an anyio task
        # group per request (about 8% of a send's CPU): chained, each level has one and none is
        # spawned. HTTP: response -> custom_context -> root_value -> context.
        dependencies: ClassVar[dict[str, Provide]] = {
            **base.dependencies,
            "response": Provide(_new_response, sync_to_thread=False),
            "custom_context": Provide(_custom_context),
            "root_value": Provide(_no_root_value, sync_to_thread=False),
            "context": Provide(_http_context),
        }

        graphql_transport_ws_handler_class = LiveTransportWSHandler

        async def execute_request(self, request: Request, context: Any, root_value: Any) -> Response:
            try:
                return await self.run(request, context=context, root_value=root_value)
            except HTTPException as exc:  # never reached GraphQL: still a GraphQL error body, coded
                headers = {"allow": "GET, POST"} if exc.status_code == 405 else None
                return Response(negotiation.error_body(exc.reason), status_code=exc.status_code,
                                media_type=negotiation.negotiate(_accept(request)), headers=headers)

        def decode_json(self, data: str | bytes) -> object:
            return negotiation.decode_json(data)  # WebSocket messages too

        def parse_json(self, data: str | bytes) -> Any:
            try:
                value = negotiation.decode_json(data)
            except json.JSONDecodeError as exc:
                raise HTTPException(400, f"Unable to parse request body as JSON: {exc.msg}") from None
            if not isinstance(value, dict):
                raise HTTPException(400, "expected a JSON object: {query, variables, operationName}")
            return value

        async def execute_single(  # noqa: PLR0913, PLR0917 - Strawberry's signature
            self, request: Any, request_adapter: Any, sub_response: Any, context: Any, root_value: Any,
            request_data: Any,
        ) -> ExecutionResult:
            # The hot mutation's prepared plan (api/graphql/fastpath.py); the rest, and whatever
            # the plan declines, through Strawberry.
            method = request_adapter.method
            if method == "POST":
                plan = prepared.plan(request_data.query, request_data.operation_name)
                if plan is not None:
                    result = await plan.run(context, request_data.variables)
                    if result is not None:
                        return result
            try:
                # Strawberry would run a subscription over POST as a query (its resolver's
                # generator then fails as an internal error): only queries and mutations here.
                return await self.schema.execute(
                    request_data.query, root_value=root_value, variable_values=request_data.variables,
                    context_value=context, operation_name=request_data.operation_name,
                    allowed_operation_types=ALLOWED.get(method, ALLOWED["GET"]),
                    operation_extensions=request_data.extensions,
                )
            except InvalidOperationTypeError as exc:
                if exc.operation_type == OperationType.SUBSCRIPTION:
                    error = GraphQLError(OVER_WEBSOCKET, extensions={"code": "BAD_USER_INPUT"})
                    return ExecutionResult(data=None, errors=[error])
                raise HTTPException(405, exc.as_http_error_reason(method)) from exc
            except CannotGetOperationTypeError as exc:
                raise HTTPException(400, exc.as_http_error_reason()) from exc
            except MissingQueryError as exc:
                raise HTTPException(400, "No GraphQL query found in the request") from exc

        async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
            # Parse errors (e.g. the token limit) bypass schema extensions: shape them here too,
            # so every error that leaves carries extensions.code.
            if result.errors:
                suggestions = suggestions_allowed(request.app.state)
                result.errors = [shape(e, suggestions=suggestions) for e in result.errors]
            response = await super().process_result(request, result)
            if _is_request_error(result) and negotiation.negotiate(_accept(request)) == negotiation.GRAPHQL_RESPONSE:
                response.pop("data", None)  # the spec: a request error has no data entry
            return response

        def create_response(self, response_data: Any, sub_response: Response) -> Response:
            response = super().create_response(response_data, sub_response)
            media_type = sub_response.media_type
            response.media_type = media_type
            if media_type == negotiation.GRAPHQL_RESPONSE and isinstance(response_data, dict) and (
                "data" not in response_data
            ):
                response.status_code = 400
            return response

    return GraphQLController


CODES = {401: "UNAUTHENTICATED", 403: "FORBIDDEN", 404: "NOT_FOUND", 413: "PAYLOAD_TOO_LARGE", 429: "RATE_LIMITED"}


def coded_http_error(request: Request, exc: Exception) -> Response:
    """Litestar's own refusals (a body over the limit, a method it does not route) and anything
    unexpected on /graphql: a GraphQL error body with a code, never Litestar's bare error page."""
    status = getattr(exc, "status_code", 500) if isinstance(exc, LitestarHTTPException) else 500
    if status == 500 and is_outage(exc):  # before the operation ran (a key's look-up, the limiter)
        log.warning("%s refused: database or queue unavailable (%r)", request.url.path, exc)
        unavailable = ServiceUnavailable()
        headers = {"Retry-After": str(unavailable.extensions["retryAfter"])}
        if request.url.path != "/graphql":
            return Response({"status_code": 503, "detail": unavailable.message}, status_code=503, headers=headers)
        body = {"errors": [{"message": unavailable.message, "extensions": unavailable.extensions}]}
        return Response(orjson.dumps(body), status_code=503, headers=headers,
                        media_type=negotiation.negotiate(_accept(request)))
    if status >= 500:
        log.error("unhandled error on %s", request.url.path, exc_info=exc)
        message, code = "internal server error", "INTERNAL_SERVER_ERROR"
    else:
        message = str(getattr(exc, "detail", "") or HTTPStatus(status).phrase)
        code = CODES.get(status, "BAD_USER_INPUT")
    if request.url.path != "/graphql":  # the other routes keep Litestar's shape
        return Response({"status_code": status, "detail": message}, status_code=status)
    return Response(negotiation.error_body(message, code), status_code=status,
                    media_type=negotiation.negotiate(_accept(request)))


def _new_response(request: Request) -> Response:
    return Response({}, background=BackgroundTasks([]), media_type=negotiation.negotiate(_accept(request)))


async def _custom_context(state: State, response: Response) -> Any:  # noqa: ARG001 - orders the chain
    return await context_getter(state)


def _no_root_value(custom_context: Any) -> None:  # noqa: ARG001 - orders the chain
    return None


async def _http_context(custom_context: Any, response: Response, request: Request, root_value: Any) -> Any:  # noqa: ARG001
    return await _context_getter_http(custom_context, response, request)

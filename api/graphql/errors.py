"""Error shaping at the edge: every error leaves with extensions.code, domain errors (plain
api.errors exceptions) become GraphQL errors with their message and extensions, internals
never leave at all, and with introspection off graphql-core's "Did you mean ...?" hints (which
spell out the schema) are dropped."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from api.errors import BooperError, ServiceUnavailable
from api.outage import is_outage

log = logging.getLogger("booper.graphql")
INTERNAL = "internal server error"
# graphql-core's hints: " Did you mean 'channel' or 'channels'?", at the end of a message or, in
# variable errors, before "Found: ...". Names and enum values never contain a "?".
SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def to_graphql_error(error: BooperError, *, nodes=None, path=None) -> GraphQLError:  # noqa: ANN001 - graphql's own
    """The GraphQL error a client sees for a domain error: its message and extensions."""
    return GraphQLError(error.message, nodes=nodes, path=path, extensions=dict(error.extensions))


def shape(error: GraphQLError, *, suggestions: bool = True) -> GraphQLError:
    shaped = _shape(error)
    if not suggestions and "Did you mean" in shaped.message:
        shaped = GraphQLError(SUGGESTION.sub("", shaped.message), nodes=shaped.nodes, path=shaped.path,
                              extensions=shaped.extensions)
    return shaped


def _shape(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, BooperError):
        return to_graphql_error(original, nodes=error.nodes, path=error.path)
    if original is None and (error.extensions or {}).get("code"):
        return error  # already shaped
    if original is None or error.path is None:
        # Syntax, validation and variable-coercion errors are about the request:
        # graphql-core's message is safe and useful to the caller.
        extensions = dict(error.extensions or {})
        extensions.setdefault("code", "BAD_USER_INPUT")
        return GraphQLError(error.message, nodes=error.nodes, path=error.path, extensions=extensions)
    if is_outage(original):  # not a bug: say so, and that a retry may succeed
        log.warning("%s refused: database or queue unavailable (%r)", ".".join(map(str, error.path)), original)
        return to_graphql_error(ServiceUnavailable(), nodes=error.nodes, path=error.path)
    log.error("unhandled error in %s", ".".join(map(str, error.path)), exc_info=original)
    return GraphQLError(INTERNAL, nodes=error.nodes, path=error.path,
                        extensions={"code": "INTERNAL_SERVER_ERROR"})


def suggestions_allowed(context: object) -> bool:
    """Whether a request's errors may keep graphql-core's hints: only where introspection, which
    shows the whole schema anyway, is on. Read live from the settings."""
    runtime = getattr(context, "runtime", None)
    settings = getattr(runtime, "settings", None)
    return bool(getattr(settings, "introspection_enabled", False))


class ShapeErrors(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        ctx = self.execution_context
        result = ctx.result
        if result is not None and result.errors:
            suggestions = suggestions_allowed(ctx.context)
            result.errors = [shape(e, suggestions=suggestions) for e in result.errors]
        elif ctx.pre_execution_errors:
            suggestions = suggestions_allowed(ctx.context)
            ctx.pre_execution_errors = [shape(e, suggestions=suggestions) for e in ctx.pre_execution_errors]

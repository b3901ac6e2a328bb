"""Error shaping: every error leaves with extensions.code, and internals never leave at all."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from api.errors import BooperError

log = logging.getLogger("booper.graphql")
INTERNAL = "internal server error"


def shape(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if original is None and (error.extensions or {}).get("code"):
        return error  # already shaped
    if isinstance(original, BooperError):
        return GraphQLError(
            original.message, nodes=error.nodes, path=error.path, extensions=original.extensions
        )
    if isinstance(error, BooperError):
        return error
    if original is None or error.path is None:
        # Syntax, validation and variable-coercion errors are about the request:
        # graphql-core's message is safe and useful to the caller.
        extensions = dict(error.extensions or {})
        extensions.setdefault("code", "BAD_USER_INPUT")
        return GraphQLError(error.message, nodes=error.nodes, path=error.path, extensions=extensions)
    log.error("unhandled error in %s", ".".join(map(str, error.path)), exc_info=original)
    return GraphQLError(INTERNAL, nodes=error.nodes, path=error.path,
                        extensions={"code": "INTERNAL_SERVER_ERROR"})


class ShapeErrors(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [shape(e) for e in result.errors]
        elif self.execution_context.pre_execution_errors:
            self.execution_context.pre_execution_errors = [
                shape(e) for e in self.execution_context.pre_execution_errors
            ]

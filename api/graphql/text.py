"""Refuses text a database cannot store: NUL characters (PostgreSQL rejects them in text) and
unpaired UTF-16 surrogates (not encodable as UTF-8). Checked once per operation, over the
variables and the document's string literals, before any resolver runs."""

from __future__ import annotations

import re
from collections.abc import Iterator

from graphql import StringValueNode, visit
from graphql.language import Visitor
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

from api.errors import BadUserInput
from api.graphql.errors import to_graphql_error

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MESSAGE = "text must not contain NUL characters or unpaired surrogates"


def _strings(value: object) -> Iterator[str]:
    # A stack, not recursion: variables nested a thousand deep must not end in RecursionError.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)


class _Literals(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.bad = False

    def enter_string_value(self, node: StringValueNode, *_: object) -> None:
        if UNSTORABLE.search(node.value):
            self.bad = True


def has_unstorable_text(variables: object, document: object, query: str | None = None) -> bool:
    if any(UNSTORABLE.search(s) for s in _strings(variables)):
        return True
    if document is None:
        return False
    if query is not None:
        # A literal's characters are the source's, except escapes: only a document with a
        # \u escape needs the walk over its literals (which cost more than the rest of a send).
        if UNSTORABLE.search(query):
            return True
        if "\\u" not in query:
            return False
    literals = _Literals()
    visit(document, literals)
    return literals.bad


class RefuseUnstorableText(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        if has_unstorable_text(ctx.variables, ctx.graphql_document, ctx.query):
            ctx.result = ExecutionResult(data=None, errors=[to_graphql_error(BadUserInput(MESSAGE))])
        yield

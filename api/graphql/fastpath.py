"""Prepared sends: sendNotification without the general executor's per-request cost.

Integrators send the same document over and over, differing only in variables. For that
shape, and only that shape, the work graphql-core and Strawberry redo on every request
(extension hooks, argument conversion, field-by-field execution) is done once per document:

    mutation [Name]($vars...) { [alias:] sendNotification(input: ...) { <leaf fields> } }

A document qualifies when it parses, passes the schema's full validation and the API's
limits, selects only scalar/enum fields of Notification without fragments, directives or
arguments, and contains no string escapes. Anything else, and any request whose variables
do not coerce, takes the general path, which then reports the problem exactly as before (no
side effect has happened by then). Once the resolver runs, its result or its error is shaped
into the same response as the general path's (the controller's error shaping applies to
both); tests/api/test_fastpath.py compares the two paths response for response.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLNonNull,
    GraphQLScalarType,
    OperationDefinitionNode,
    OperationType,
    parse,
    validate,
)
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.validation import specified_rules
from strawberry.types import ExecutionResult

from api.graphql.text import UNSTORABLE, has_unstorable_text

FIELD = "sendNotification"
MAX_SELECTIONS = 30
MAX_QUERY = 4000
PLANS = 512


class _Info:
    """What the send resolver reads of `info`: the request's context."""

    __slots__ = ("context",)

    def __init__(self, context: Any) -> None:
        self.context = context


@dataclass(frozen=True)
class _Leaf:
    key: str  # response key (alias or name)
    get: Callable[[Any], Any]
    serialize: Callable[[Any], Any]
    nullable: bool


class Plan:
    def __init__(self, prepared: PreparedSends, operation: OperationDefinitionNode, field: FieldNode,
                 leaves: list[_Leaf]) -> None:
        self.prepared = prepared
        self.operation = operation
        self.field = field
        self.key = field.alias.value if field.alias else FIELD
        self.leaves = leaves

    async def run(
        self, context: Any, variables: dict[str, Any] | None, *, text_checked: bool = False
    ) -> ExecutionResult | None:
        """The result, or None for the general path (nothing has been done yet). `text_checked`:
        the caller has shown the variables hold no NUL or unpaired surrogate."""
        prepared = self.prepared
        if variables is not None and not isinstance(variables, dict):
            return None
        if variables and not text_checked and has_unstorable_text(variables, None):
            return None
        coerced = get_variable_values(prepared.graphql_schema, self.operation.variable_definitions or (),
                                      variables or {}, max_errors=1)
        if isinstance(coerced, list):  # variable errors: the general path words them
            return None
        try:
            raw = get_argument_values(prepared.field_def, self.field, coerced)["input"]
        except GraphQLError:
            return None
        arguments = prepared.make_input(raw)
        try:
            node = await prepared.resolver(None, _Info(context), arguments)
            data = {leaf.key: leaf.serialize(value) if (value := leaf.get(node)) is not None else None
                    for leaf in self.leaves}
        except Exception as exc:  # noqa: BLE001 - shaped like the general path's (process_result)
            error = exc if isinstance(exc, GraphQLError) and exc.path else GraphQLError(
                str(exc), nodes=[self.field], path=[self.key], original_error=exc
            )
            PreparedSends.served += 1
            return ExecutionResult(data=None, errors=[error])
        if missing := [leaf.key for leaf in self.leaves if data[leaf.key] is None and not leaf.nullable]:
            # The send has happened: answer as the executor would (null propagates to the non-null
            # root field), never "take the general path", which would send a second time.
            error = GraphQLError(f"Cannot return null for non-nullable field Notification.{missing[0]}.",
                                 nodes=[self.field], path=[self.key, missing[0]])
            PreparedSends.served += 1
            return ExecutionResult(data=None, errors=[error])
        PreparedSends.served += 1
        return ExecutionResult(data={self.key: data}, errors=None)


def _has_input_object(type_: Any) -> bool:
    """An input field whose value graphql-core leaves as a dict (an input object, or a list of them)."""
    while hasattr(type_, "of_type"):
        type_ = type_.of_type
    definition = getattr(type_, "__strawberry_definition__", None)
    return definition is not None and definition.is_input


class PreparedSends:
    """Plans by document text (None: not this shape), built once per process and document."""

    enabled = True  # tests compare against the general path by turning it off
    served = 0  # requests answered by a plan, in this process

    def __init__(self, schema: Any, *, max_aliases: int, max_tokens: int) -> None:
        from api.notifications.resolvers import NotificationsMutation
        from api.notifications.types import Notification, SendNotificationInput

        self.schema = schema
        self.graphql_schema = schema._schema
        self.max_aliases, self.max_tokens = max_aliases, max_tokens
        self.field_def = self.graphql_schema.mutation_type.fields[FIELD]
        (resolver,) = [
            f for f in NotificationsMutation.__strawberry_definition__.fields if f.name == "send_notification"
        ]
        self.resolver = resolver.base_resolver.wrapped_func
        names = schema.config.name_converter
        input_fields = SendNotificationInput.__strawberry_definition__.fields
        self._input_names = {names.get_graphql_name(f): f.python_name for f in input_fields}
        # Nested input objects (expo, webPush) arrive as dicts from graphql-core: converted to
        # their input classes as the general path does; scalars and enums pass as they are.
        self._nested_inputs = {names.get_graphql_name(f): f.type for f in input_fields if _has_input_object(f.type)}
        self._input_class = SendNotificationInput
        self._leaves = self._leaf_getters(Notification)
        self._plans: OrderedDict[str, Plan | None] = OrderedDict()

    def make_input(self, raw: dict[str, Any]) -> Any:
        nested = self._nested_inputs
        return self._input_class(**{
            self._input_names[k]: v if k not in nested or v is None else self._convert(v, nested[k])
            for k, v in raw.items()
        })

    def _convert(self, value: Any, type_: Any) -> Any:
        from strawberry.types.arguments import convert_argument

        return convert_argument(value, type_, self.schema.schema_converter.scalar_registry, self.schema.config)

    def _leaf_getters(self, node_type: type) -> dict[str, tuple[Callable, Callable, bool]]:
        """GraphQL name -> (getter, serializer, nullable) for Notification's plain fields: those
        whose resolver takes only the object (no info, no arguments, not async)."""
        import inspect

        names = self.schema.config.name_converter
        graphql_type = self.graphql_schema.get_type("Notification")
        leaves: dict[str, tuple[Callable, Callable, bool]] = {}
        for field in node_type.__strawberry_definition__.fields:
            resolver = field.base_resolver
            if resolver is None or field.arguments:
                continue
            func = resolver.wrapped_func
            params = list(inspect.signature(func).parameters)
            if params != ["self"] or inspect.iscoroutinefunction(func):
                continue
            name = names.get_graphql_name(field)
            out_type = graphql_type.fields[name].type
            nullable = not isinstance(out_type, GraphQLNonNull)
            named = out_type.of_type if isinstance(out_type, GraphQLNonNull) else out_type
            if not isinstance(named, GraphQLScalarType | GraphQLEnumType):
                continue
            leaves[name] = (func, named.serialize, nullable)
        leaves["__typename"] = (lambda _node: "Notification", lambda v: v, False)
        return leaves

    def plan(self, query: str | None, operation_name: str | None) -> Plan | None:
        if not self.enabled or not isinstance(query, str) or len(query) > MAX_QUERY or FIELD not in query:
            return None
        key = f"{operation_name}\n{query}" if operation_name else query
        if key in self._plans:
            self._plans.move_to_end(key)
            return self._plans[key]
        plan = self._build(query, operation_name)
        self._plans[key] = plan
        if len(self._plans) > PLANS:
            self._plans.popitem(last=False)
        return plan

    def _build(self, query: str, operation_name: str | None) -> Plan | None:
        if "\\" in query or UNSTORABLE.search(query):
            return None  # escapes and unstorable text: the general path refuses or decodes them
        try:
            document = parse(query, max_tokens=self.max_tokens)
        except GraphQLError:
            return None  # over the token limit too: the general path refuses it in its words
        if len(document.definitions) != 1:
            return None
        (operation,) = document.definitions
        if not isinstance(operation, OperationDefinitionNode) or operation.operation != OperationType.MUTATION:
            return None
        if operation_name is not None and (operation.name is None or operation.name.value != operation_name):
            return None
        if operation.directives or any(v.directives for v in operation.variable_definitions or ()):
            return None
        selections = operation.selection_set.selections
        if len(selections) != 1 or not isinstance(selections[0], FieldNode):
            return None
        field = selections[0]
        if field.name.value != FIELD or field.directives or field.selection_set is None:
            return None
        if [a.name.value for a in field.arguments or ()] != ["input"]:
            return None
        chosen = field.selection_set.selections
        aliases = (field.alias is not None) + sum(1 for c in chosen if getattr(c, "alias", None) is not None)
        if not 0 < len(chosen) <= MAX_SELECTIONS or aliases > self.max_aliases:
            return None
        leaves: list[_Leaf] = []
        for leaf in chosen:
            if not isinstance(leaf, FieldNode) or leaf.directives or leaf.arguments or leaf.selection_set:
                return None
            found = self._leaves.get(leaf.name.value)
            if found is None:
                return None
            response_key = leaf.alias.value if leaf.alias else leaf.name.value
            if any(existing.key == response_key for existing in leaves):
                return None  # merged fields: the executor's business
            get, serialize, nullable = found
            leaves.append(_Leaf(response_key, get, serialize, nullable))
        if validate(self.graphql_schema, document, specified_rules):
            return None
        return Plan(self, operation, field, leaves)

"""Query cost, computed before anything runs: nesting times page sizes, with the request's variables.

A query's cost is the number of field resolutions it can cause: every field costs 1 each time
it is resolved, and a list field multiplies what is under it by how many items it can return
(its `first`, or the connection's `first` for `nodes`, or an estimate for unpaged lists).
One anonymous document of nested lists (notifications -> channel -> app -> channels -> app ->
channels) cost 21 s and thousands of threads before this existed (issue 10, finding 5); its
cost here is millions and it is refused before it runs, with the cost and the limit.

A page size may be a variable (`first: $n`), and then only the request knows it: costing it at
the variable's declared default let `query($n: Int = 1)` with `{"n": 100}` run 100 times what it
was costed at. So a document is walked once (per process and query text, like the parser cache)
into a small expression whose only unknowns are those variables, and each request evaluates it
with its own values: a few multiplications, no second walk. A variable the request leaves out
is its declared default, else the argument's own default; anything below 1 counts as 1. A value
that is not an Int (or null) is costed as if left out: the executor refuses such a request, or
that field, before running it, and says why.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
    get_named_type,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

# Lists without a page argument (App.channels, Query.apps, App.apiKeys, ...): counted as this
# many items. Argument-driven sizes (DeliveryBucket per `hours`) are named explicitly.
UNPAGED_LIST_SIZE = 50
SIZE_ARGUMENTS = ("first", "hours")
PLANS = 512  # documents whose walked cost is kept, per limiter (the parser cache keeps 512 too)


@dataclass(frozen=True)
class Var:
    """A size given by a variable: its value in the request, else `missing`."""

    name: str
    declared: int | None  # the variable's default in the document
    fallback: int  # the argument's default, else the largest page

    @property
    def missing(self) -> int:
        return self.declared if self.declared is not None else self.fallback


Size = int | Var


class Sum:
    """const + sum(coef * size * inner): the variable-dependent part of a cost. Shared, never
    copied: a fragment spread many times is one Sum evaluated once per request."""

    __slots__ = ("const", "terms")

    def __init__(self, const: int, terms: tuple[tuple[int, Var | None, Expr], ...]) -> None:
        self.const = const
        self.terms = terms


Expr = int | Sum


def _sum(parts: list[Expr]) -> Expr:
    const = sum(p for p in parts if isinstance(p, int))
    shared = [p for p in parts if isinstance(p, Sum)]
    if not shared:
        return const
    if const == 0 and len(shared) == 1:
        return shared[0]
    return Sum(const, tuple((1, None, s) for s in shared))


def _times(items: Size, inner: Expr) -> Expr:
    """1 + items x inner: one field and what it selects, once per item."""
    if isinstance(items, int):
        if isinstance(inner, int):
            return 1 + items * inner
        return Sum(1, ((items, None, inner),))
    return Sum(1, ((1, items, inner),)) if inner != 0 else 1


def evaluate(expr: Expr, sizes: Mapping[str, int]) -> int:
    """The cost with each variable's size; a shared Sum is evaluated once."""
    memo: dict[int, int] = {}

    def value(node: Expr) -> int:
        if isinstance(node, int):
            return node
        known = memo.get(id(node))
        if known is None:
            known = node.const
            for coef, size, inner in node.terms:
                known += coef * (sizes[size.name] if size is not None else 1) * value(inner)
            memo[id(node)] = known
        return known

    return value(expr)


class _Walk:
    """One operation's cost expression: a single walk of its selections, each fragment once per page."""

    def __init__(self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode],
                 operation: OperationDefinitionNode, max_page: int) -> None:
        self.schema = schema
        self.fragments = fragments
        self.max_page = max_page
        self.declared: dict[str, int] = {}
        self.variables: dict[Var, None] = {}  # every Var met, in order
        self.fragment_costs: dict[tuple[str, Size | None], Expr] = {}
        self.expanding: set[str] = set()
        for definition in operation.variable_definitions or ():
            default = definition.default_value
            if isinstance(default, IntValueNode):
                self.declared[definition.variable.name.value] = int(default.value)

    def selection_set(self, parent: Any, selections: SelectionSetNode | None, page: Size | None) -> Expr:
        """`page` is the enclosing connection's page size: the size of its `nodes` list."""
        if selections is None or not isinstance(parent, GraphQLObjectType):
            return 0
        parts: list[Expr] = []
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                parts.append(self.field(parent, selection, page))
            elif isinstance(selection, InlineFragmentNode):
                target = parent
                if selection.type_condition is not None:
                    target = self.schema.get_type(selection.type_condition.name.value)
                parts.append(self.selection_set(target, selection.selection_set, page))
            elif isinstance(selection, FragmentSpreadNode):
                parts.append(self.spread(selection.name.value, page))
        return _sum(parts)

    def spread(self, name: str, page: Size | None) -> Expr:
        """A fragment's cost, once per (fragment, page): fragments spreading fragments twice over
        would otherwise make this walk exponential in the document's length."""
        key = (name, page)
        if key not in self.fragment_costs:
            fragment = self.fragments.get(name)
            if fragment is None or name in self.expanding:
                return 0  # unknown or cyclic: KnownFragmentNames / NoFragmentCycles report it
            self.expanding.add(name)
            target = self.schema.get_type(fragment.type_condition.name.value)
            self.fragment_costs[key] = self.selection_set(target, fragment.selection_set, page)
            self.expanding.discard(name)
        return self.fragment_costs[key]

    def field(self, parent: GraphQLObjectType, node: FieldNode, page: Size | None) -> Expr:
        name = node.name.value
        if name.startswith("__"):
            return 1  # __typename, or introspection: bounded by the schema's size
        definition = parent.fields.get(name)
        if definition is None or node.selection_set is None:
            return 1  # a leaf (or an unknown field: FieldsOnCorrectTypeRule reports it)
        if _is_list(definition.type):
            size = self.size(definition, node)
            items = size if size is not None else (page if page is not None else UNPAGED_LIST_SIZE)
            inner = None
        else:
            # A connection (an object field with `first`): the page size is its `nodes`' length.
            items, inner = 1, self.size(definition, node)
        named = get_named_type(definition.type)
        return _times(items, self.selection_set(named, node.selection_set, inner))

    def size(self, definition: Any, node: FieldNode) -> Size | None:
        """A field's size argument (`first`, `hours`): as written, a variable, else its default."""
        for argument in SIZE_ARGUMENTS:
            if argument not in definition.args:
                continue
            default = definition.args[argument].default_value
            fallback = default if isinstance(default, int) else self.max_page
            for given in node.arguments or ():
                if given.name.value != argument:
                    continue
                value = given.value
                if isinstance(value, IntValueNode):
                    return max(int(value.value), 1)
                if isinstance(value, VariableNode):
                    var = Var(value.name.value, self.declared.get(value.name.value), max(fallback, 1))
                    self.variables[var] = None
                    return var
                return self.max_page  # not an Int: validation refuses it
            return max(fallback, 1)
        return None


def _is_list(field_type: Any) -> bool:
    if isinstance(field_type, GraphQLNonNull):
        field_type = field_type.of_type
    return isinstance(field_type, GraphQLList)


@dataclass(frozen=True)
class OperationCost:
    """An operation's walked cost: evaluate it with a request's variables (or None: not known)."""

    operation: OperationDefinitionNode
    expr: Expr
    variables: tuple[Var, ...]
    max_page: int

    def cost(self, values: Mapping[str, Any] | None) -> int:
        if isinstance(self.expr, int):
            return self.expr
        return evaluate(self.expr, {v.name: self._size(v, values) for v in self.variables})

    def _size(self, var: Var, values: Mapping[str, Any] | None) -> int:
        if values is None:  # no request: the declared default, else any page at all
            return var.declared if var.declared is not None else self.max_page
        value = values.get(var.name)
        if value is None:  # left out; or null, which no size argument (all Int!) accepts
            return var.missing
        try:
            return max(GraphQLInt.parse_value(value), 1)
        except (GraphQLError, TypeError, ValueError):
            # Not an Int: the executor refuses the whole request before running any of it, and
            # says why (a refusal for cost here would hide that).
            return var.missing


def walk(schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode],
         operation: OperationDefinitionNode, max_page: int) -> OperationCost:
    root = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]
    walker = _Walk(schema, fragments, operation, max_page)
    expr = walker.selection_set(root, operation.selection_set, None)
    return OperationCost(operation, expr, tuple(walker.variables), max_page)


def document_costs(schema: GraphQLSchema, document: DocumentNode, max_page: int) -> dict[str | None, OperationCost]:
    """Each operation's cost by name (None: the anonymous one)."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return {
        (d.name.value if d.name else None): walk(schema, fragments, d, max_page)
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    }


def cost_error(cost: int, max_cost: int, node: OperationDefinitionNode) -> GraphQLError:
    return GraphQLError(
        f"query cost {cost:,} exceeds the limit of {max_cost:,}: ask for smaller "
        "pages (first) or fewer nested lists",
        node,
        extensions={"code": "BAD_USER_INPUT", "cost": cost, "maxCost": max_cost},
    )


def operation_cost(rule: ValidationRule, operation: OperationDefinitionNode, max_page: int) -> int:
    """An operation's cost without a request: each variable at its declared default, else the largest page."""
    context = rule.context
    fragments = {d.name.value: d for d in context.document.definitions if isinstance(d, FragmentDefinitionNode)}
    return walk(context.schema, fragments, operation, max_page).cost(None)


def cost_rule(max_cost: int, max_page: int) -> type[ValidationRule]:
    """A validation rule over documents alone (no variables): for checking shipped documents,
    such as the dashboard's, against the limit. The API checks requests with QueryCostLimiter."""

    class QueryCostRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
            cost = operation_cost(self, node, max_page)
            if cost > max_cost:
                self.report_error(cost_error(cost, max_cost, node))

    return QueryCostRule


class CostPlans:
    """Walked documents by query text (LRU), for one schema: a repeated document is walked once."""

    def __init__(self, max_page: int, size: int = PLANS) -> None:
        self.max_page = max_page
        self.size = size
        self.plans: OrderedDict[str, dict[str | None, OperationCost]] = OrderedDict()
        self.walks = 0

    def get(self, schema: GraphQLSchema, query: str | None, document: DocumentNode) -> dict[str | None, OperationCost]:
        if query is None:
            self.walks += 1
            return document_costs(schema, document, self.max_page)
        plans = self.plans.get(query)
        if plans is None:
            self.walks += 1
            plans = self.plans[query] = document_costs(schema, document, self.max_page)
            if len(self.plans) > self.size:
                self.plans.popitem(last=False)
        else:
            self.plans.move_to_end(query)
        return plans


def limit_error(plans: dict[str | None, OperationCost], operation_name: str | None,
                variables: Any, max_cost: int) -> GraphQLError | None:
    """The refusal of the operation that will run, with this request's variables (None: within the limit)."""
    if operation_name is not None:
        chosen = [plans[operation_name]] if operation_name in plans else []
    else:
        chosen = list(plans.values()) if len(plans) == 1 else []
    # No operation to run (unknown name, several and none named): the executor refuses it.
    values = variables if isinstance(variables, Mapping) else {}
    for plan in chosen:
        cost = plan.cost(values)
        if cost > max_cost:
            return cost_error(cost, max_cost, plan.operation)
    return None


def cost_limiter(max_cost: int, max_page: int) -> type[SchemaExtension]:
    """The extension class for one limit (one instance per request; the walked plans are shared):
    refuses an operation whose cost with the request's variables exceeds `max_cost`
    (BAD_USER_INPUT with `cost` and `maxCost`), after validation and before execution, over
    HTTP and WebSocket alike (both run the validation hooks)."""
    plans = CostPlans(max_page)

    class QueryCostLimiter(SchemaExtension):
        cost_plans = plans

        def on_validate(self) -> Iterator[None]:
            # Strawberry reads the validation errors before the hooks' exits: the check is made on
            # the way in, after ValidationCache's (listed before this one), else validating here.
            ctx = self.execution_context
            if ctx.pre_execution_errors is None and ctx.graphql_document is not None:
                ctx.pre_execution_errors = validate_document(
                    ctx.schema._schema, ctx.graphql_document, ctx.validation_rules
                )
            if not ctx.pre_execution_errors and ctx.graphql_document is not None:
                found = plans.get(ctx.schema._schema, ctx.query, ctx.graphql_document)
                error = limit_error(found, ctx.operation_name, ctx.variables, max_cost)
                if error is not None:
                    ctx.pre_execution_errors = [error]
            yield

    return QueryCostLimiter

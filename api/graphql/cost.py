"""Query cost, computed from the document before anything runs: nesting times page sizes.

A query's cost is the number of field resolutions it can cause: every field costs 1 each time
it is resolved, and a list field multiplies what is under it by how many items it can return
(its `first`, or the connection's `first` for `nodes`, or an estimate for unpaged lists).
One anonymous document of nested lists (notifications -> channel -> app -> channels -> app ->
channels) cost 21 s and thousands of threads before this existed (issue 10, finding 5); its
cost here is millions and it is refused at validation, with the cost and the limit.

The rule is a graphql-core ValidationRule built once per schema: the same class on every
request, so Strawberry's ValidationCache keys on it and a repeated document is costed once.
Variables are not known at validation (and must not be: the cache keys on the document only),
so `first: $n` counts as the variable's default, else the largest page a resolver accepts.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
    get_named_type,
)
from strawberry.extensions import AddValidationRules

# Lists without a page argument (App.channels, Query.apps, App.apiKeys, ...): counted as this
# many items. Argument-driven sizes (DeliveryBucket per `hours`) are named explicitly.
UNPAGED_LIST_SIZE = 50
SIZE_ARGUMENTS = ("first", "hours")


class _Walk:
    """One operation's cost: a single walk of its selections, each fragment costed once."""

    def __init__(self, rule: ValidationRule, operation: OperationDefinitionNode, max_page: int) -> None:
        self.context = rule.context
        self.max_page = max_page
        self.variable_defaults: dict[str, int] = {}
        self.fragment_costs: dict[tuple[str, int | None], int] = {}
        self.expanding: set[str] = set()
        for definition in operation.variable_definitions or ():
            default = definition.default_value
            if isinstance(default, IntValueNode):
                self.variable_defaults[definition.variable.name.value] = int(default.value)

    def selection_set(
        self, parent: Any, selections: SelectionSetNode | None, page: int | None
    ) -> int:
        """`page` is the enclosing connection's page size: the size of its `nodes` list."""
        if selections is None or not isinstance(parent, GraphQLObjectType):
            return 0
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self.field(parent, selection, page)
            elif isinstance(selection, InlineFragmentNode):
                target = parent
                if selection.type_condition is not None:
                    target = self.context.schema.get_type(selection.type_condition.name.value)
                total += self.selection_set(target, selection.selection_set, page)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.spread(selection.name.value, page)
        return total

    def spread(self, name: str, page: int | None) -> int:
        """A fragment's cost, once per (fragment, page): fragments spreading fragments twice over
        would otherwise make this walk exponential in the document's length."""
        key = (name, page)
        if key not in self.fragment_costs:
            fragment = self.context.get_fragment(name)
            if fragment is None or name in self.expanding:
                return 0  # unknown or cyclic: KnownFragmentNames / NoFragmentCycles report it
            self.expanding.add(name)
            target = self.context.schema.get_type(fragment.type_condition.name.value)
            self.fragment_costs[key] = self.selection_set(target, fragment.selection_set, page)
            self.expanding.discard(name)
        return self.fragment_costs[key]

    def field(
        self, parent: GraphQLObjectType, node: FieldNode, page: int | None
    ) -> int:
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
        return 1 + items * self.selection_set(named, node.selection_set, inner)

    def size(self, definition: Any, node: FieldNode) -> int | None:
        """A field's size argument (`first`, `hours`): as written, else its default."""
        for argument in SIZE_ARGUMENTS:
            if argument in definition.args:
                size = self.argument(node, argument)
                if size is None:
                    default = definition.args[argument].default_value
                    size = default if isinstance(default, int) else self.max_page
                return max(size, 1)
        return None

    def argument(self, node: FieldNode, name: str) -> int | None:
        """An argument's value if the document fixes it; a variable's default, else the largest page."""
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                return self.variable_defaults.get(value.name.value, self.max_page)
            return self.max_page
        return None


def _is_list(field_type: Any) -> bool:
    if isinstance(field_type, GraphQLNonNull):
        field_type = field_type.of_type
    return isinstance(field_type, GraphQLList)


def operation_cost(rule: ValidationRule, operation: OperationDefinitionNode, max_page: int) -> int:
    schema = rule.context.schema
    root = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]
    return _Walk(rule, operation, max_page).selection_set(root, operation.selection_set, None)


def cost_rule(max_cost: int, max_page: int) -> type[ValidationRule]:
    """The rule class for one limit: made once, so the validation cache recognises it."""

    class QueryCostRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
            cost = operation_cost(self, node, max_page)
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"query cost {cost:,} exceeds the limit of {max_cost:,}: ask for smaller "
                        "pages (first) or fewer nested lists",
                        node,
                        extensions={"code": "BAD_USER_INPUT", "cost": cost, "maxCost": max_cost},
                    )
                )

    return QueryCostRule


class QueryCostLimiter(AddValidationRules):
    """Refuse documents whose cost exceeds `max_cost` before they run (BAD_USER_INPUT)."""

    def __init__(self, max_cost: int, max_page: int) -> None:
        super().__init__([cost_rule(max_cost, max_page)])

"""Every GraphQL operation the dashboard sends is valid against the API's schema.

The schema is the exported ``schema.graphql`` at the repository root. Only when
it does not exist yet (early in the project) does this fall back to the design
contract plus the additions the dashboard was promised, so that a schema change
that breaks the dashboard fails CI.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import build_schema, parse, validate
from graphql.language import OperationDefinitionNode

from dashboard.client import OPERATIONS_DIR, operation, operation_names

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "schema.graphql"
CONTRACT = ROOT.parent / "shared" / "design" / "contract.graphql"

# What the API promised the dashboard beyond the contract (used only without
# schema.graphql).
PROMISED = """
type DeliveryBucket { start: DateTime!, sent: Int!, delivered: Int!, failed: Int! }
extend type App { deliveryStats(hours: Int = 24): [DeliveryBucket!]! }
extend input CreateAccessCodeInput { appId: ID }
"""


def _schema():
    if SCHEMA.exists():
        return build_schema(SCHEMA.read_text())
    if not CONTRACT.exists():
        pytest.skip("neither schema.graphql nor the design contract is available")
    return build_schema(CONTRACT.read_text() + PROMISED)


@pytest.fixture(scope="module")
def schema():
    return _schema()


def test_there_are_operations():
    names = operation_names()
    assert len(names) >= 20
    assert {"LogIn", "SignUp", "SendNotification", "LiveDeliveries"} <= set(names)


@pytest.mark.parametrize("name", operation_names())
def test_operation_is_valid(schema, name):
    document = parse(operation(name))
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert len(ops) == 1, f"{name}.graphql must hold exactly one operation"
    assert ops[0].name is not None and ops[0].name.value == name, (
        f"{OPERATIONS_DIR / (name + '.graphql')} must define an operation named {name}"
    )
    errors = validate(schema, document)
    assert not errors, f"{name}: " + "; ".join(e.message for e in errors)


def test_create_access_code_input_takes_app_id(schema):
    """The dashboard sends appId inside CreateAccessCodeInput (a JWT viewer)."""
    input_type = schema.get_type("CreateAccessCodeInput")
    assert input_type is not None and "appId" in input_type.fields

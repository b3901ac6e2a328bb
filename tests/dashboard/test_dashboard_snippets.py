"""The settings page's snippets: filled in with the app's values, never a secret, and every
GraphQL document in them valid against the API's schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

from dashboard import snippets

SCHEMA = Path(__file__).resolve().parents[2] / "schema.graphql"


@pytest.mark.parametrize("document", [snippets.SEND, snippets.REGISTER, snippets.LIVE])
def test_snippet_documents_are_valid(document):
    errors = validate(build_schema(SCHEMA.read_text()), parse(document))
    assert errors == [], [e.message for e in errors]


def test_snippets_carry_the_apps_values_and_no_secret(monkeypatch):
    monkeypatch.setenv("BOOPER_PUBLIC_API_URL", "https://push.example.com/")
    got = {s["id"]: s["code"] for s in snippets.snippets("42", "orders", "BPUBLICKEY")}
    assert set(got) == {"curl", "python", "fetch", "graphql-ws", "expo", "browser"}
    assert all("https://push.example.com/graphql" in code for k, code in got.items() if k != "graphql-ws")
    assert "wss://push.example.com/graphql" in got["graphql-ws"]
    assert 'variables: { a: "42" }' in got["graphql-ws"]
    assert '"channel": "orders"' in got["curl"] and '"channel": "orders"' in got["python"]
    assert 'applicationServerKey: "BPUBLICKEY"' in got["browser"]
    assert all("bk_" not in code for code in got.values())  # keys come from BOOPER_API_KEY

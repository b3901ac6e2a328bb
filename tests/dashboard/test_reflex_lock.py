"""reflex.lock/package.json is committed exactly as Reflex writes it (one line, json.dumps, no
final newline): every `reflex run --env prod` renders it that way and copies it back to
reflex.lock/, so a file in any other layout (pretty-printed) dirtied every worktree a browser
test ran in. Re-render it with Reflex's own template whenever the dependencies change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_JSON = ROOT / "reflex.lock" / "package.json"


def test_package_json_is_written_the_way_reflex_writes_it():
    templates = pytest.importorskip("reflex_base.compiler.templates")
    committed = PACKAGE_JSON.read_text()
    persisted = json.loads(committed)
    rendered = templates.package_json_template(
        scripts=persisted.pop("scripts"),
        dependencies=persisted.pop("dependencies"),
        dev_dependencies=persisted.pop("devDependencies"),
        overrides=persisted.pop("overrides"),
        **persisted,
    )
    assert committed == rendered, (
        "reflex.lock/package.json is not in Reflex's layout: a prod build would rewrite it; "
        "write it with json.dumps (one line, no final newline)"
    )

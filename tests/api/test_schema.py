"""schema.graphql is the export of the code, and it covers the whole contract."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_CHECK = ROOT / ".." / "shared" / "tools" / "contract_check.py"


def test_committed_schema_matches_the_code():
    from api.graphql.schema import build_schema

    exported = build_schema().as_str() + "\n"
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == exported, (
        "schema.graphql is out of date with the code: "
        "run `.venv/bin/booper export-schema` and commit it"
    )


def test_schema_covers_the_contract():
    if not CONTRACT_CHECK.is_file():
        pytest.skip(
            f"contract checker not found at {CONTRACT_CHECK.resolve()}"
            " (the shared design folder is absent)"
        )
    result = subprocess.run(
        [
            sys.executable,
            str(CONTRACT_CHECK),
            "schema.graphql",
            "../shared/design/contract.graphql",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "missing: 0" in result.stdout, result.stdout

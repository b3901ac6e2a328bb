"""The GraphQL-over-HTTP conformance audit (graphql-http's serverAudits, the reference
implementation's own checks) against the real test server: 0 errors and 0 warnings.

Runs with Node; graphql-http comes from the npm registry once into .tools/graphql-http (ignored by
git). Without node/npm the test is skipped, saying so, except under CI=true, where it must run."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import databases

TOOLS = Path(__file__).resolve().parents[2] / ".tools" / "graphql-http"
PACKAGES = ["graphql-http@1.23.1", "graphql@16"]
# Every audit, its status and, for anything not ok, why (and what the server answered).
SCRIPT = """
import { serverAudits } from 'graphql-http';
const results = [];
for (const audit of serverAudits({ url: process.argv[2], fetchFn: fetch })) {
  const r = await audit.fn();
  results.push({ id: audit.id, name: audit.name, status: r.status, reason: r.reason,
    body: r.status === 'ok' ? undefined : await r.response.text().catch(() => '') });
}
console.log(JSON.stringify(results));
"""


def _install() -> None:
    if (TOOLS / "node_modules" / "graphql-http" / "package.json").exists():
        return
    TOOLS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(TOOLS), *PACKAGES],
                   check=True, capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def audit_tool() -> Path:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        if databases.in_ci():
            pytest.fail(f"CI=true but {', '.join(missing)} not installed: the graphql-http audit must run")
        pytest.skip(f"{', '.join(missing)} not installed: the graphql-http audit needs Node")
    _install()
    script = TOOLS / "audit.mjs"
    script.write_text(SCRIPT)
    return script


async def test_the_graphql_over_http_audit_passes_without_errors_or_warnings(api, audit_tool):
    process = await asyncio.create_subprocess_exec(
        "node", str(audit_tool), f"{api.url}/graphql", cwd=TOOLS,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()[-2000:]
    results = json.loads(out)
    assert len(results) >= 40, results  # the audit ran, not an empty list
    bad = [r for r in results if r["status"] in ("error", "warn")]
    assert not bad, json.dumps(bad, indent=1)[:4000]
    assert any("graphql-response+json" in r["name"] for r in results)  # the audits that warned before

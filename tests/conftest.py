"""Test fixtures: a real API server and the sandbox providers on loopback, one per session.

The database is chosen before anything of `api` is imported (settings are read
once): BOOPER_TEST_DB=sqlite (default) or postgres. Between tests every table is
emptied, the rate limiter and the sandbox are reset.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import pytest

from tests.support import databases

_TEST_DB = os.environ.get("BOOPER_TEST_DB", "sqlite")
_DATA_DIR = Path(tempfile.mkdtemp(prefix="booper-test-"))
_PG_URL: str | None = None
if _TEST_DB == "postgres":
    if not databases.postgres_reachable():
        raise pytest.UsageError(
            f"BOOPER_TEST_DB=postgres but PostgreSQL is not reachable at {databases.PG_ADMIN_URL}"
        )
    _PG_URL = databases.create_postgres_database()
    os.environ["BOOPER_DATABASE_URL"] = _PG_URL
else:
    os.environ["BOOPER_DATABASE_URL"] = f"sqlite:///{_DATA_DIR / 'booper.sqlite3'}"
os.environ["BOOPER_DATA_DIR"] = str(_DATA_DIR)
os.environ.pop("BOOPER_REDIS_URL", None)
os.environ.update(
    {
        "BOOPER_PERIODIC_INTERVAL": "0.2",
        "BOOPER_RECEIPT_DELAY": "0.3",
        "BOOPER_RETRY_BASE_DELAY": "0.05",
        "BOOPER_RETRY_MAX_DELAY": "0.5",
        "BOOPER_STALL_AFTER": "1",
        "BOOPER_MAX_ATTEMPTS": "3",
        "BOOPER_PROVIDER_TIMEOUT": "1",
        "BOOPER_APP_RATE": "10000/second",
        "BOOPER_ANONYMOUS_IP_RATE": "10000/second",
        "BOOPER_ANONYMOUS_CHANNEL_RATE": "10000/second",
        "BOOPER_AUTH_RATE": "10000/second",
        "BOOPER_DEVICE_RATE": "10000/second",
    }
)

logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("taskiq.receiver.receiver").setLevel(logging.WARNING)

from tests.support.api_server import ApiServer, start_api_server  # noqa: E402
from tests.support.graphql import GraphQLClient  # noqa: E402
from tests.support.sandbox import RunningSandbox, start_sandbox  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    for marker in (
        "redis: needs Redis (BOOPER_TEST_REDIS); skipped when unreachable, except under CI=true",
        "postgres: needs PostgreSQL itself, whatever BOOPER_TEST_DB is",
        "e2e: starts real Booper processes",
        "browser: drives the dashboard in headless Chromium",
    ):
        config.addinivalue_line("markers", marker)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip service-dependent tests when the service is down, saying so; never under CI."""
    if databases.in_ci():
        return
    reachable = {"redis": databases.redis_reachable, "postgres": databases.postgres_reachable}
    cache: dict[str, bool] = {}
    for item in items:
        for name, check in reachable.items():
            if item.get_closest_marker(name):
                if name not in cache:
                    cache[name] = check()
                if not cache[name]:
                    item.add_marker(pytest.mark.skip(reason=f"{name} not reachable (see scripts/test)"))


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"booper test database: {_TEST_DB} ({os.environ['BOOPER_DATABASE_URL']})"]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _PG_URL:
        databases.drop_postgres_database(_PG_URL)


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing():
    """argon2id with its smallest cost in this process: still argon2id end to end, but a sign-up
    or log-in costs about a millisecond instead of 200 ms of CPU (most tests sign up an owner or
    two). Processes the tests start (e2e, the dashboard's `booper dev`) keep the real cost."""
    from argon2 import PasswordHasher

    from api import security

    saved = security._hasher, security._DUMMY_HASH
    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    security._DUMMY_HASH = security._hasher.hash("unknown address")  # as cheap for unknown addresses
    yield
    security._hasher, security._DUMMY_HASH = saved


@pytest.fixture(scope="session")
def sandbox_server() -> RunningSandbox:
    server = start_sandbox()
    yield server
    server.stop()


@pytest.fixture
async def sandbox(sandbox_server: RunningSandbox, api_server: ApiServer) -> RunningSandbox:
    """The shared sandbox, with no faults, no messages and no latency at the start of a test.
    The previous test's tasks finish first, so none of its sends lands in this test's sandbox."""
    await api_server.settle()
    sandbox_server.reset()
    yield sandbox_server
    await api_server.settle()
    sandbox_server.reset()


@pytest.fixture(scope="session")
async def api_server(sandbox_server: RunningSandbox) -> ApiServer:
    server = await start_api_server(sandbox_server.base_url, sandbox_server.native_url, sandbox_server.ca_file)
    yield server
    await server.stop()


@pytest.fixture
async def api(api_server: ApiServer, sandbox: RunningSandbox) -> GraphQLClient:
    """A GraphQL client on a clean database, limiter and sandbox."""
    await api_server.reset()
    sandbox.reset()
    async with GraphQLClient(api_server.url) as client:
        yield client


@pytest.fixture
def runtime(api_server: ApiServer):
    return api_server.runtime


@pytest.fixture
def settings(api_server: ApiServer):
    """The live settings of the test server; changes are undone after the test."""
    saved = api_server.runtime.settings.model_dump()
    yield api_server.runtime.settings
    for key, value in saved.items():
        setattr(api_server.runtime.settings, key, value)


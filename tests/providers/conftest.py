"""Provider tests use the shared sandbox fixtures from tests/conftest.py."""

import ssl
import time

import pytest


class Clock:
    """A clock the test moves: given to a client and to the sandbox's token checks alike."""

    def __init__(self, now: float = 1_900_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def native_sandbox(sandbox_server):
    """The sandbox's HTTP/2 providers on a controlled clock: (sandbox, clock, TLS context trusting it)."""
    sandbox_server.reset()
    context = ssl.create_default_context()
    context.load_verify_locations(sandbox_server.ca_file)
    clock = Clock()
    sandbox_server.state.native.clock = clock
    yield sandbox_server, clock, context
    sandbox_server.state.native.clock = time.time
    sandbox_server.reset()

"""Fixtures: the sandbox providers served by a real uvicorn server on a free loopback port."""

import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

# pyproject has no `pythonpath` setting yet and the project is not installed in
# the venv, so make `api` importable when pytest is run as .venv/bin/pytest.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from api.sandbox import SandboxState, create_sandbox_app  # noqa: E402


@dataclass
class RunningSandbox:
    base_url: str
    state: SandboxState
    control: httpx.Client  # a blocking client for /sandbox endpoints

    def faults(self, *rules: dict) -> None:
        self.control.post("/sandbox/faults", json=list(rules)).raise_for_status()

    def messages(self, to: str | None = None) -> list[dict]:
        params = {"to": to} if to is not None else {}
        response = self.control.get("/sandbox/messages", params=params)
        response.raise_for_status()
        return response.json()

    def stats(self) -> dict:
        return self.control.get("/sandbox/stats").json()

    def subscribe(self, application_server_key: str | None = None) -> dict:
        body = {"applicationServerKey": application_server_key} if application_server_key else {}
        response = self.control.post("/webpush/subscriptions", json=body)
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[RunningSandbox]:
    state = SandboxState(timeout_fault_seconds=2.0)
    config = uvicorn.Config(
        create_sandbox_app(state), log_level="warning", access_log=False,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    control = httpx.Client(base_url=base_url, timeout=5)
    deadline = time.monotonic() + 10
    while True:  # wait until it really answers HTTP
        try:
            if control.get("/sandbox/stats").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("sandbox server did not start")
        time.sleep(0.02)
    yield RunningSandbox(base_url, state, control)
    control.close()
    server.should_exit = True
    thread.join(timeout=5)
    sock.close()


@pytest.fixture
def sandbox(sandbox_server: RunningSandbox) -> Iterator[RunningSandbox]:
    """The shared sandbox, with no faults, no messages and no latency at the start of a test."""
    sandbox_server.control.delete("/sandbox/faults").raise_for_status()
    sandbox_server.control.delete("/sandbox/messages").raise_for_status()
    sandbox_server.state.latency_ms = 0
    yield sandbox_server
    sandbox_server.control.delete("/sandbox/faults").raise_for_status()
    sandbox_server.state.latency_ms = 0

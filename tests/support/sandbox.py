"""The sandbox providers served by a real uvicorn server on a free loopback port."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field

import httpx
import uvicorn

from api.sandbox import SandboxState, create_sandbox_app
from api.sandbox.h2 import NativeServer, start_native_server


@dataclass
class RunningSandbox:
    base_url: str
    state: SandboxState
    control: httpx.Client  # a blocking client for /sandbox endpoints
    server: uvicorn.Server
    thread: threading.Thread
    native: NativeServer = field(default=None)  # type: ignore[assignment]

    @property
    def native_url(self) -> str:
        """FCM v1 and APNs over HTTP/2 with TLS (the certificate: ca_file)."""
        return self.native.url

    @property
    def ca_file(self) -> str:
        return str(self.native.ca_file)

    def issue_service_account(self, project_id: str) -> dict:
        """A Firebase service account key file whose key the sandbox's token endpoint knows."""
        return self.state.native.issue_service_account(project_id, token_uri=f"{self.native_url}/token")

    def issue_apns_key(self, team_id: str) -> dict:
        return self.state.native.issue_apns_key(team_id)

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

    def reset(self) -> None:
        self.control.delete("/sandbox/faults").raise_for_status()
        self.control.delete("/sandbox/messages").raise_for_status()
        self.state.latency_ms = 0

    def stop(self) -> None:
        self.control.close()
        self.server.should_exit = True
        self.thread.join(timeout=5)
        self.native.stop()


def start_sandbox(state: SandboxState | None = None) -> RunningSandbox:
    state = state or SandboxState(timeout_fault_seconds=2.0)
    config = uvicorn.Config(
        create_sandbox_app(state), log_level="warning", access_log=False, timeout_graceful_shutdown=1
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
    return RunningSandbox(base_url, state, control, server, thread, start_native_server(state))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

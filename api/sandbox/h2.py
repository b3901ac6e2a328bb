"""The sandbox's HTTP/2 providers (FCM v1 and APNs) as one ASGI app, served over TLS with ALPN h2
(api/sandbox/h2server.py): APNs speaks nothing else, and a real HTTP/2 connection is what the clients multiplex
their requests on. The certificate is self-signed; clients trust it with BOOPER_PROVIDER_CA_FILE."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from api.sandbox import apns, fcm
from api.sandbox.asgi import answer, header
from api.sandbox.h2server import serve_tls
from api.sandbox.state import SandboxState


def certificate(directory: Path) -> tuple[Path, Path]:
    """(certificate, key) for 127.0.0.1 and localhost, made once per directory."""
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "sandbox-cert.pem", directory / "sandbox-key.pem"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Booper sandbox")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


class NativeProviders:
    """ASGI: FCM's token endpoint and messages:send, APNs' /3/device/{token}."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        path = scope["path"]
        if apns.serves(path):
            await apns.handle(scope, receive, send, self.state)
        elif fcm.serves(path):
            host = header(scope, b"host") or "{}:{}".format(*scope["server"])
            await fcm.handle(scope, receive, send, self.state, f"https://{host}")
        else:
            await answer(send, 404, {"error": "not found"})

    def in_flight(self, change: int) -> None:
        """Requests received and not yet answered, over every connection (the server counts them:
        an answer that never waits runs in one step, so the app alone would never see two)."""
        state = self.state
        state.native_in_flight += change
        state.native_peak_in_flight = max(state.native_peak_in_flight, state.native_in_flight)


async def serve_native(state: SandboxState, sock: socket.socket, cert_dir: Path,
                       shutdown: asyncio.Event | None = None) -> None:
    """Serve on an already bound socket until `shutdown` is set (or forever)."""
    cert, key = certificate(cert_dir)
    app = NativeProviders(state)
    await serve_tls(app, sock, str(cert), str(key), shutdown or asyncio.Event(), app.in_flight)


@dataclass
class NativeServer:
    """The HTTP/2 providers running in a thread (start_native_server)."""

    url: str
    ca_file: Path
    loop: asyncio.AbstractEventLoop
    shutdown: asyncio.Event
    thread: threading.Thread

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.shutdown.set)
        self.thread.join(timeout=5)


def start_native_server(state: SandboxState, host: str = "127.0.0.1", port: int = 0,
                        cert_dir: Path | None = None) -> NativeServer:
    """Serve in a thread with its own event loop (beside uvicorn's); returns once it answers."""
    cert_dir = cert_dir or Path(tempfile.mkdtemp(prefix="booper-sandbox-tls-"))
    ca_file, _ = certificate(cert_dir)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    url = f"https://{host}:{sock.getsockname()[1]}"
    loop = asyncio.new_event_loop()
    shutdown = asyncio.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(serve_native(state, sock, cert_dir, shutdown))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    with httpx.Client(verify=str(ca_file), timeout=2) as client:
        while True:
            try:
                client.get(url + "/")
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("native sandbox server did not start") from None
                time.sleep(0.05)
    return NativeServer(url, ca_file, loop, shutdown, thread)

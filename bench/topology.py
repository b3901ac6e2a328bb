"""The production topology as real loopback processes: a throwaway PostgreSQL database, Redis db
13, booper serve/worker/scheduler/sandbox.
"""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES",
    os.environ.get("BOOPER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"),
)
REDIS_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/13")
UNLIMITED = "1000000/second"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Process:
    """A child in its own process group, logged to a file, always stopped."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_http(self, url: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(url, timeout=1).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer {url} in {timeout}s:\n{self.log()}")

    def wait_log(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log()}")
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} never logged {text!r}:\n{self.log()}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-6000:]

    def tree(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.proc.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def rss(self) -> int:
        """Resident memory of the whole process tree, in bytes."""
        total = 0
        for p in self.tree():
            try:
                total += p.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._log.close()


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


class Topology:
    """Owns the database, Redis db and every process of one bench invocation."""

    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="booper-bench-"))
        self.db_name = f"booper_bench_{uuid.uuid4().hex[:10]}"
        self.db_url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{self.db_name}"
        self.port, self.sandbox_port, self.native_port = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}/graphql"
        self.sandbox = f"http://127.0.0.1:{self.sandbox_port}"
        self.native = f"https://127.0.0.1:{self.native_port}"  # the sandbox's FCM and APNs (HTTP/2)
        self.ca_file = self.tmp / "data" / "sandbox-tls" / "sandbox-cert.pem"
        self.procs: dict[str, Process] = {}
        self.env = {
            "BOOPER_DATABASE_URL": self.db_url,
            "BOOPER_REDIS_URL": REDIS_URL,
            "BOOPER_DATA_DIR": str(self.tmp / "data"),
            "BOOPER_SECRET_KEY": "bench-secret-key-not-for-production-0000000",
            "BOOPER_PRODUCTION": "true",  # no access log, no GraphiQL: as deployed
            "BOOPER_EXPO_URL": self.sandbox,
            "BOOPER_WEBPUSH_ALLOWED_ORIGINS": self.sandbox,
            "BOOPER_FCM_URL": self.native,
            "BOOPER_FCM_TOKEN_URL": f"{self.native}/token",
            "BOOPER_APNS_URL": self.native,
            "BOOPER_APNS_DEVELOPMENT_URL": self.native,
            "BOOPER_PROVIDER_CA_FILE": str(self.ca_file),
            # The bench measures the service, not the limits: lift rate limits and Expo pacing.
            "BOOPER_APP_RATE": UNLIMITED,
            "BOOPER_ANONYMOUS_IP_RATE": UNLIMITED,
            "BOOPER_ANONYMOUS_CHANNEL_RATE": UNLIMITED,
            "BOOPER_AUTH_RATE": UNLIMITED,
            "BOOPER_DEVICE_RATE": UNLIMITED,
            "BOOPER_EXPO_RATE": "10000000",
            # Every S4 subscriber comes from 127.0.0.1: lift the per-client WebSocket cap.
            "BOOPER_WS_CONNECTIONS_PER_CLIENT": "1000000",
        }

    def __enter__(self) -> Topology:
        raise_fd_limit()
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
        asyncio.run(_admin(f'CREATE DATABASE "{self.db_name}"'))
        self.start("sandbox", "sandbox", "--port", str(self.sandbox_port), "--native-port", str(self.native_port))
        self.procs["sandbox"].wait_http(f"{self.sandbox}/sandbox/stats")
        self.start("serve", "serve", "--port", str(self.port))
        self.procs["serve"].wait_http(f"http://127.0.0.1:{self.port}/healthz")
        return self

    def __exit__(self, *exc) -> None:
        for name in list(self.procs):
            self.stop(name)
        try:
            if os.environ.get("BENCH_KEEP_DB"):  # to look at its plans and tables afterwards
                print(f"bench: kept database {self.db_name} (BENCH_KEEP_DB)", flush=True)
            else:
                asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)'))
        finally:
            import redis

            redis.Redis.from_url(REDIS_URL).flushdb()

    def start(self, name: str, *booper_args: str, args: list[str] | None = None) -> Process:
        cmd = args or [sys.executable, "-m", "api.cli", *booper_args]
        self.procs[name] = Process(name, cmd, self.env, self.tmp)
        return self.procs[name]

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is not None:
            proc.stop()

    def ensure_workers(self) -> None:
        """`booper worker` and `booper scheduler`, started once and left running."""
        if "worker" not in self.procs:
            self.start("worker", "worker").wait_log("Listening started", timeout=60)
            time.sleep(1.0)  # the second (priority) worker process
        if "scheduler" not in self.procs:
            self.start("scheduler", "scheduler")

    def uvicorn(self, name: str, factory: str, port: int) -> Process:
        """A bench-owned ASGI app served by uvicorn exactly as `booper serve` serves the API."""
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            factory,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
            "--ws-max-size",
            str(64 * 1024),
            # booper serve's default (BOOPER_WS_COMPRESSION unset): same server settings, fair ratio.
            "--ws-per-message-deflate",
            "false",
        ]
        proc = self.start(name, args=cmd)
        proc.wait_http(f"http://127.0.0.1:{port}/healthz")
        return proc

    def sql(self, query: str, *args):
        return asyncio.run(sql(self.db_url, query, *args))


async def sql(db_url: str, query: str, *args):
    import asyncpg

    conn = await asyncpg.connect(db_url)
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


class Gql:
    """A small synchronous GraphQL client (setup and single sends, not load)."""

    def __init__(self, url: str, auth: str | None = None) -> None:
        self.client = httpx.Client(timeout=30)
        self.url, self.auth = url, auth

    def __call__(
        self, query: str, variables: dict | None = None, auth: str | None = None, device_key: str | None = None
    ) -> dict:
        token = auth or self.auth
        headers = {"authorization": f"Bearer {token}"} if token else {}
        if device_key:  # a device's own operations prove the device (X-Device-Key)
            headers["x-device-key"] = device_key
        body = self.client.post(
            self.url, json={"query": query, "variables": variables or {}}, headers=headers
        ).json()
        if body.get("errors"):
            raise RuntimeError(f"GraphQL error: {body['errors']}")
        return body["data"]


SEND = "mutation($i: SendNotificationInput!) { sendNotification(input: $i) { id status } }"


def setup_app(topo: Topology, channels: list[str]) -> tuple[int, str, str]:
    """A user, an app on plan BUSINESS (no quota, priority queue), its API key and channels."""
    gql = Gql(topo.url)
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    jwt = gql(
        'mutation($e: String!) { signUp(email: $e, password: "correct horse battery") { token } }',
        {"e": email},
    )["signUp"]["token"]
    created = gql(
        'mutation { createApp(name: "Bench") { app { id } apiKey { secret } } }', auth=jwt
    )["createApp"]
    app_id, key = int(created["app"]["id"]), created["apiKey"]["secret"]
    topo.sql("UPDATE apps SET plan = 'BUSINESS' WHERE id = $1", app_id)
    for name in channels:
        gql(
            "mutation($a: ID!, $n: String!) { createChannel(appId: $a, name: $n) { id } }",
            {"a": str(app_id), "n": name},
            auth=key,
        )
    return app_id, key, jwt


def channel_id(topo: Topology, app_id: int, name: str) -> int:
    return topo.sql("SELECT id FROM channels WHERE app = $1 AND name = $2", app_id, name)[0]["id"]


class Ctx:
    """What every scenario gets: the topology, the bench app and its key, and the mode."""

    def __init__(self, topo: Topology, quick: bool) -> None:
        self.topo, self.quick = topo, quick
        self.app_id, self.key, self.owner_jwt = setup_app(topo, [])
        self.gql = Gql(topo.url, self.key)

    def channel(self, name: str) -> int:
        self.gql(
            "mutation($a: ID!, $n: String!) { createChannel(appId: $a, name: $n) { id } }",
            {"a": str(self.app_id), "n": name},
        )
        return channel_id(self.topo, self.app_id, name)

    def send(self, channel: str, title: str = "bench", auth: bool = True) -> dict:
        variables = {"i": {"channel": channel, "title": title, "body": "hello from the bench"}}
        if auth:
            return self.gql(SEND, variables)["sendNotification"]
        return Gql(self.topo.url)(SEND, variables)["sendNotification"]

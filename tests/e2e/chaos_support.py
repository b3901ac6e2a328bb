"""The chaos harness: the production topology (PostgreSQL, Redis, `booper serve`, two `booper worker`,
`booper scheduler`, the sandbox) on loopback, bulk-seeded devices, service faults the way this
machine starts its services, and pushes counted per (notification, device) as the sandbox got them.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import redis

from tests.support import databases
from tests.support.processes import ROOT, Process, booper
from tests.support.sandbox import free_port

ENSURE_SERVICES = ROOT.parent / "shared" / "tools" / "ensure-services.sh"
# Exactly the command ensure-services.sh starts Redis with (an empty Redis: nothing saved).
REDIS_START = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
               "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"]


def _pg_cluster() -> list[str]:
    version = sorted(Path("/etc/postgresql").iterdir(), key=lambda p: [int(x) for x in p.name.split(".")])[-1].name
    return ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main"]


def redis_up() -> bool:
    try:
        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def restart_redis_empty() -> None:
    """`shutdown nosave`, then started again as the machine starts it: every stream and group gone."""
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "shutdown", "nosave"], capture_output=True, timeout=10)
    deadline = time.monotonic() + 10
    while redis_up() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    subprocess.run(REDIS_START, check=False, timeout=10)
    deadline = time.monotonic() + 15
    while not redis_up() and time.monotonic() < deadline:
        time.sleep(0.1)


def stop_postgres() -> None:
    """Stopped at once, as a crash or a failover would stop it. A shutdown first completes the
    checkpoint in progress: on a machine that has created and dropped many test databases that
    synced 224,552 files and took 15 s, an outage three times the one a test means to cause. A
    checkpoint made just before, while PostgreSQL still serves, leaves the shutdown little to do."""
    with suppress(Exception):  # a checkpoint that fails leaves the stop as it was
        asyncio.run(databases._admin("CHECKPOINT"))
    subprocess.run([*_pg_cluster(), "stop", "-m", "fast"], check=False, timeout=60, capture_output=True)


def start_postgres() -> None:
    subprocess.run([*_pg_cluster(), "start"], check=False, timeout=60, capture_output=True)
    deadline = time.monotonic() + 30
    while not databases.postgres_reachable() and time.monotonic() < deadline:
        time.sleep(0.2)


def ensure_services() -> None:
    """Whatever happened, both services are left running."""
    if ENSURE_SERVICES.exists():
        subprocess.run([str(ENSURE_SERVICES)], check=False, timeout=120, capture_output=True)
    else:
        if not redis_up():
            subprocess.run(REDIS_START, check=False, timeout=10)
        if not databases.postgres_reachable():
            start_postgres()


@dataclass
class Topology:
    tmp: Path
    redis_url: str
    env: dict[str, str] = field(default_factory=dict)
    procs: dict[str, Process] = field(default_factory=dict)
    url: str = ""
    sandbox: str = ""
    db_url: str = ""

    def start(self, extra_env: dict[str, str], workers: int = 2, *, latency_ms: int = 300) -> None:
        self.db_url = databases.create_postgres_database()
        redis.Redis.from_url(self.redis_url).flushdb()
        port, sandbox_port, native_port = free_port(), free_port(), free_port()
        self.sandbox = f"http://127.0.0.1:{sandbox_port}"
        native = f"https://127.0.0.1:{native_port}"  # FCM and APNs over HTTP/2
        self.url = f"http://127.0.0.1:{port}/graphql"
        self.env = {
            "BOOPER_DATABASE_URL": self.db_url, "BOOPER_REDIS_URL": self.redis_url,
            "BOOPER_DATA_DIR": str(self.tmp / "data"), "BOOPER_SECRET_KEY": "chaos-secret-key-not-for-production-0000",
            "BOOPER_EXPO_URL": self.sandbox, "BOOPER_WEBPUSH_ALLOWED_ORIGINS": self.sandbox,
            "BOOPER_FCM_URL": native, "BOOPER_FCM_TOKEN_URL": f"{native}/token", "BOOPER_APNS_URL": native,
            "BOOPER_APNS_DEVELOPMENT_URL": native,
            "BOOPER_PROVIDER_CA_FILE": str(self.tmp / "data" / "sandbox-tls" / "sandbox-cert.pem"),
            "BOOPER_APP_RATE": "1000/second", **extra_env,
        }
        self.procs["sandbox"] = Process(
            "sandbox", booper("sandbox", "--port", str(sandbox_port), "--latency-ms", str(latency_ms),
                              "--native-port", str(native_port)), self.env, self.tmp)
        self.procs["sandbox"].wait_http(f"{self.sandbox}/sandbox/stats")
        self.procs["serve"] = Process("serve", booper("serve", "--port", str(port)), self.env, self.tmp)
        self.procs["serve"].wait_http(f"http://127.0.0.1:{port}/healthz")
        for i in range(workers):
            self.start_worker(f"worker{i}")
        self.procs["scheduler"] = Process("scheduler", booper("scheduler"), self.env, self.tmp)

    def start_worker(self, name: str) -> None:
        n = sum(1 for k in self.procs if k.startswith(name))
        self.procs[name if n == 0 else f"{name}.{n}"] = Process(f"{name}.{n}", booper("worker"), self.env, self.tmp)

    def workers(self) -> list[str]:
        return [k for k, p in self.procs.items() if k.startswith("worker") and p.proc.poll() is None]

    def stop_processes(self) -> None:
        for p in self.procs.values():
            p.stop()

    def drop_database(self) -> None:
        if self.db_url:
            databases.drop_postgres_database(self.db_url)

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n{p.log()}" for name, p in self.procs.items())

    def gql(self, query: str, variables: dict | None = None, *, auth: str | None = None) -> dict:
        headers = {"authorization": f"Bearer {auth}"} if auth else {}
        return httpx.post(self.url, json={"query": query, "variables": variables or {}}, headers=headers,
                          timeout=20).json()

    def faults(self, *rules: dict) -> None:
        httpx.post(f"{self.sandbox}/sandbox/faults", json=list(rules), timeout=10).raise_for_status()

    def pushes(self) -> Counter:
        """How many times the provider double accepted each (notification id, token)."""
        got = httpx.get(f"{self.sandbox}/sandbox/messages", timeout=60).json()
        return Counter((pushed_notification(m), m["to"]) for m in got)

    async def sql(self, query: str, *args):
        conn = await asyncpg.connect(self.db_url, timeout=5)
        try:
            return await conn.fetch(query, *args)
        finally:
            await conn.close()

    def query(self, query: str, *args) -> list:
        return asyncio.run(self.sql(query, *args))


@contextmanager
def running_topology(tmp: Path, redis_url: str, env: dict[str, str], *, services_restarted: bool = False,
                     **start) -> Iterator[Topology]:
    """A started topology, stopped and its database dropped afterwards (and the machine's services
    started again first, for tests that stop them)."""
    topo = Topology(tmp=tmp, redis_url=redis_url)
    try:
        topo.start(env, **start)
        yield topo
    finally:
        try:
            topo.stop_processes()
        finally:
            if services_restarted:
                ensure_services()
            topo.drop_database()


def pushed_notification(message: dict) -> int:
    """The notification id a provider double received, whatever the transport."""
    if message["provider"] == "webpush":
        return int(json.loads(message["payload"])["id"])
    return int(message["message"]["data"]["notificationId"])


def seed_devices(topo: Topology, app_id: int, channel: str, count: int) -> list[str]:
    """Devices and subscriptions in bulk SQL (registerDevice's shape is not this test's subject)."""
    async def run() -> list[str]:
        conn = await asyncpg.connect(topo.db_url)
        try:
            channel_id = await conn.fetchval("SELECT id FROM channels WHERE app = $1 AND name = $2", app_id, channel)
            rows = await conn.fetch(
                "INSERT INTO devices (platform, token, active, created_at) SELECT 'EXPO',"
                " 'ExponentPushToken[chaos-' || g || ']', true, now() FROM generate_series(1, $1) g"
                " RETURNING id, token", count)
            await conn.execute(
                "INSERT INTO channel_subscriptions (channel, device, created_at)"
                " SELECT $1, d, now() FROM unnest($2::bigint[]) d", channel_id, [r["id"] for r in rows])
            await conn.execute("ANALYZE devices; ANALYZE channel_subscriptions")
            return [r["token"] for r in rows]
        finally:
            await conn.close()

    return asyncio.run(run())

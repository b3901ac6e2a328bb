"""What S7 (FCM) and S8 (APNs) share: the app's credentials from the sandbox, devices seeded with
SQL, and the naive loop's HTTP client (one request at a time, as a per-message library call does)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx
import psutil

from bench.cpu import CpuMeter
from bench.report import Row
from bench.s2_expo import fan_out
from bench.topology import Ctx, Gql

NAIVE_MESSAGES = 300
# A first, unmeasured fan-out to this many devices, as the naive loop's first request is unmeasured:
# the figure is a running worker's, not one paying its first TLS connections, OAuth token, app
# credentials and prepared statements (the warm-up's own rate is kept in the results).
WARM_UP = 200


def set_credentials(ctx: Ctx) -> tuple[dict, dict]:
    """The bench app's FCM service account and APNs key, issued by the sandbox, set by the owner."""
    sandbox = ctx.topo.sandbox
    account = httpx.post(f"{sandbox}/sandbox/fcm/service-accounts", json={"project_id": "bench-project"}).json()
    key = httpx.post(f"{sandbox}/sandbox/apns/keys", json={"team_id": "BENCHTEAM1"}).json()
    owner = Gql(ctx.topo.url, ctx.owner_jwt)
    owner("mutation($a: ID!, $j: String!) { setFcmCredentials(appId: $a, input: {serviceAccountJson: $j}) { id } }",
          {"a": str(ctx.app_id), "j": json.dumps(account)})
    owner("mutation($a: ID!, $i: ApnsCredentialsInput) { setApnsCredentials(appId: $a, input: $i) { id } }",
          {"a": str(ctx.app_id), "i": {"keyId": key["key_id"], "teamId": key["team_id"], "topic": "com.bench.app",
                                       "privateKey": key["private_key"], "production": False}})
    return account, key


TOKENS = {  # SQL for the g-th token of a platform, unique per run by the tag ($2)
    "FCM": "'fcm-' || $2 || '-' || g || ':APA91b'",
    "APNS": "md5($2 || g) || md5(g || $2)",  # 64 hex characters
}


def seed(ctx: Ctx, cid: int, platform: str, n: int) -> None:
    """N devices of the app (FCM or APNS tokens) and their subscriptions, set-based."""
    tag = f"{platform.lower()}-{time.time_ns()}"
    ctx.topo.sql(
        "INSERT INTO devices (platform, token, identifier, app, active, created_at)"
        f" SELECT $1, {TOKENS[platform]}, $2, $3, true, now() FROM generate_series(1, $4) AS g",
        platform, tag, ctx.app_id, n,
    )
    ctx.topo.sql("INSERT INTO channel_subscriptions (channel, device, created_at)"
                 " SELECT $1, id, now() FROM devices WHERE identifier = $2", cid, tag)
    # As S2 does: statistics for the seeded tables, and what earlier fan-outs left in deliveries
    # vacuumed now, not by an autovacuum starting in the middle of the measured one (in a full run,
    # after S1-S7 had filled the database, it had cost S8 a tenth of its PostgreSQL time).
    for table in ("devices", "channel_subscriptions", "deliveries"):
        ctx.topo.sql(f"VACUUM ANALYZE {table}")


def naive_client(ctx: Ctx, *, http2: bool) -> httpx.Client:
    return httpx.Client(verify=str(ctx.topo.ca_file), http2=http2, timeout=10)


def naive_rate(send_one: Callable[[int], httpx.Response], m: int = NAIVE_MESSAGES) -> dict:
    send_one(-1).raise_for_status()  # warm: connection, token
    t0 = time.perf_counter()
    for i in range(m):
        send_one(i).raise_for_status()
    elapsed = time.perf_counter() - t0
    return {"messages": m, "seconds": elapsed, "per_s": m / elapsed, "us_per_message": elapsed / m * 1e6}


def run_fan_out(ctx: Ctx, scenario: str, platform: str, naive: dict, naive_label: str) -> tuple[list[Row], dict]:
    n = 10_000  # the size, quick or not (a few seconds)
    warm = ctx.channel(f"{scenario.lower()}-warm-up")
    seed(ctx, warm, platform, WARM_UP)
    warm_up = fan_out(ctx, f"{scenario.lower()}-warm-up", WARM_UP, "DELIVERED", timeout=120)
    cid = ctx.channel(scenario.lower())
    seed(ctx, cid, platform, n)
    httpx.delete(f"{ctx.topo.sandbox}/sandbox/messages")
    meter = CpuMeter(ctx.topo, ("worker", "sandbox"))
    try:
        got = fan_out(ctx, scenario.lower(), n, "DELIVERED", timeout=max(180, n / 50))
    except RuntimeError as exc:  # say where the deliveries are, and why
        outcomes = ctx.topo.sql("SELECT status, error, count(*) AS n FROM deliveries WHERE notification ="
                                " (SELECT max(id) FROM notifications) GROUP BY 1, 2")
        raise RuntimeError(f"{exc}: {[dict(r) for r in outcomes]}") from None
    got["cpu_us_per_delivery"] = {k: round(seconds / n * 1e6, 1) for k, seconds in meter.stop().items()}
    got["load_average"] = psutil.getloadavg()[0]
    print(f"   CPU per delivery (us): {got['cpu_us_per_delivery']}, load average {got['load_average']:.1f}", flush=True)
    stats = httpx.get(f"{ctx.topo.sandbox}/sandbox/stats").json()
    rate = got["per_s"]
    rows = [Row(scenario, f"deliveries/s N={n:,}", rate, "/s", naive["per_s"], naive_label,
                ">= 8k/s and >= 10x naive", rate >= 8000 and rate >= 10 * naive["per_s"])]
    return rows, {"naive": naive, "fan_out": got, "warm_up": warm_up,
                  "sandbox_peak_streams": stats.get("native_peak_in_flight")}

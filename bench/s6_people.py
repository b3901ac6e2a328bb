"""S6 direct sends to people: 10,000 persons with two Expo devices each (20,000 deliveries), reached
by sendNotification(identifiers) until every delivery is SENT, beside a channel fan-out to the same
20,000 devices in the same run (S2's path) as the baseline.

A send names at most 1,000 persons (the contract's bound), so "one send to 10,000 persons" is ten
sends of 1,000 made at once; the time runs from just before the first to the last delivery's SENT.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from bench.cpu import CpuMeter
from bench.report import Row
from bench.s2_expo import fan_out
from bench.topology import SEND, Ctx, Gql

PERSONS = 10_000
DEVICES_EACH = 2
PER_SEND = 1_000


def seed(ctx: Ctx, tag: str, cid: int) -> list[str]:
    """Persons, their devices and the links in four set-based statements (setup, not measured);
    the same devices follow a channel, for the baseline."""
    topo, n = ctx.topo, PERSONS * DEVICES_EACH
    topo.sql(
        "INSERT INTO persons (app, identifier, created_at)"
        " SELECT $1, $2 || '-' || g, now() FROM generate_series(1, $3) AS g",
        ctx.app_id, tag, PERSONS,
    )
    topo.sql(
        "INSERT INTO devices (platform, token, active, created_at)"
        " SELECT 'EXPO', 'ExponentPushToken[' || $1 || '-' || g || ']', true, now()"
        " FROM generate_series(1, $2) AS g",
        tag, n,
    )
    # Statistics first: on tables the planner believes empty, the join below became a nested loop
    # comparing every device with every person (minutes, in a run of S6 alone).
    for table in ("persons", "devices"):
        topo.sql(f"ANALYZE {table}")
    topo.sql(
        "INSERT INTO person_devices (person, device, app, created_at)"
        " SELECT p.id, d.id, $1, now() FROM devices d JOIN persons p ON p.app = $1"
        " AND p.identifier = $2 || '-' || ((CAST(substring(d.token FROM '-([0-9]+)\\]$') AS INT) + 1) / 2)"
        " WHERE d.token LIKE 'ExponentPushToken[' || $2 || '-%'",
        ctx.app_id, tag,
    )
    topo.sql(
        "INSERT INTO channel_subscriptions (channel, device, created_at)"
        " SELECT $1, id, now() FROM devices WHERE token LIKE 'ExponentPushToken[' || $2 || '-%'",
        cid, tag,
    )
    for table in ("persons", "person_devices", "devices", "channel_subscriptions"):
        topo.sql(f"ANALYZE {table}")
    return [f"{tag}-{g}" for g in range(1, PERSONS + 1)]


def direct_fan_out(ctx: Ctx, identifiers: list[str], timeout: float) -> dict:
    topo, n = ctx.topo, len(identifiers) * DEVICES_EACH
    chunks = [identifiers[i : i + PER_SEND] for i in range(0, len(identifiers), PER_SEND)]

    def one(chunk: list[str]) -> int:
        gql = Gql(topo.url, ctx.key)
        sent = gql(SEND, {"i": {"identifiers": chunk, "title": "bench", "body": "hello"}})
        return int(sent["sendNotification"]["id"])

    meter = CpuMeter(topo, ("worker", "serve"))
    t0 = time.time()
    with ThreadPoolExecutor(len(chunks)) as pool:
        ids = list(pool.map(one, chunks))
    accepted = time.time() - t0
    deadline, done = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        done = topo.sql(
            "SELECT count(*) AS n FROM deliveries WHERE notification = ANY($1) AND status = 'SENT'", ids
        )[0]["n"]
        if done >= n:
            break
        time.sleep(0.1)
    if done < n:
        raise RuntimeError(f"{done}/{n} deliveries SENT after {timeout}s")
    cpu = meter.stop()
    times = topo.sql("SELECT extract(epoch FROM max(updated_at)) AS last, extract(epoch FROM max(created_at)) AS made,"
                     " extract(epoch FROM min(created_at)) AS first FROM deliveries WHERE notification = ANY($1)",
                     ids)[0]
    last = times["last"]
    persons = topo.sql("SELECT count(DISTINCT person) AS n FROM deliveries WHERE notification = ANY($1)", ids)[0]["n"]
    seconds = float(last) - t0
    return {"n": n, "sends": len(ids), "persons": persons, "seconds": seconds, "per_s": n / seconds,
            "us_per_delivery": seconds / n * 1e6, "accepted_s": accepted,
            "first_created_s": float(times["first"]) - t0, "last_created_s": float(times["made"]) - t0,
            "worker_cpu_us_per_delivery": cpu["worker"] / n * 1e6,
            "postgres_cpu_us_per_delivery": cpu["postgres"] / n * 1e6,
            "api_cpu_us_per_delivery": cpu["serve"] / n * 1e6}


# As the engagement pair of S2: with 2, one slow draw of the box decided the ratio too often; with
# 3, on a box whose draws varied by a third (the eighth session's), still one run in three.
ROUNDS = 5
ENGAGED = "direct, engaged"
CAP = 20


def engage(ctx: Ctx, tag: str, muted: int, *, on: bool) -> None:
    """In play (issue 13), every engagement check a direct send meets, holding nothing back: each
    person has preferences (another channel muted, quiet hours later today) and the app an hourly
    cap per person, which it is past the bound of (S1's and the earlier runs' notifications of the
    hour), so each batch reads its persons' pushes of the hour. Idle: none of it.

    The cap, CAP, is above the pushes S6 makes to a person (one per run: at most 3 * ROUNDS) and
    below the app's notifications of the hour by the first engaged run (the first channel run's
    one and the first direct run's ten, besides the engaged run's own ten), so the per-person
    count is made, whatever ran before, and holds nothing (a HELD delivery would stop the run)."""
    topo = ctx.topo
    topo.sql("DELETE FROM preferences WHERE app = $1", ctx.app_id)
    if on:
        later = time.gmtime(time.time() + 2 * 3600)
        start, end = f"{later.tm_hour:02d}:00", f"{(later.tm_hour + 1) % 24:02d}:00"
        topo.sql(
            "INSERT INTO preferences (app, person, muted_channels, quiet_start, quiet_end, time_zone, updated_at)"
            " SELECT $1, id, $2, $3, $4, 'UTC', now() FROM persons WHERE app = $1 AND identifier LIKE $5 || '-%'",
            ctx.app_id, f"[{muted}]", start, end, tag,
        )
    topo.sql("UPDATE apps SET person_hourly_cap = $2 WHERE id = $1", ctx.app_id, CAP if on else None)
    topo.sql("VACUUM ANALYZE preferences")


def run(ctx: Ctx) -> tuple[list[Row], dict]:
    """The channel fan-out, the direct sends, and the direct sends with the engagement checks in
    play, ROUNDS times each, in turn (each round starts with another mode: a run right after
    another pays for what it left behind); the best of each, as the engagement pair of S2 takes
    (the box's noise only ever slows a run: one of each had put the ratio anywhere between 0.63x
    and 1.16x on an idle box)."""
    ctx.topo.ensure_workers()
    tag = f"s6-{time.time_ns()}"
    cid = ctx.channel("s6-channel")
    identifiers = seed(ctx, tag, cid)
    n = PERSONS * DEVICES_EACH
    muted = ctx.channel(f"s6-muted-{time.time_ns()}")  # the channel the engaged persons mute
    runs: dict[str, list[dict]] = {"channel": [], "direct": [], ENGAGED: []}
    modes = ("channel", "direct", ENGAGED)
    try:
        for round_ in range(ROUNDS):
            for mode in modes[round_ % 3:] + modes[:round_ % 3]:  # each mode first once, and after each other
                engage(ctx, tag, muted, on=mode == ENGAGED)
                runs[mode].append(_one(ctx, mode, identifiers, cid, n))
    finally:
        engage(ctx, tag, muted, on=False)
    channel, direct, engaged = (max(runs[mode], key=lambda r: r["per_s"]) for mode in modes)
    ratio = direct["per_s"] / channel["per_s"]
    rows = [
        Row("S6", f"deliveries/s {PERSONS:,} persons x {DEVICES_EACH} (best of {ROUNDS})", direct["per_s"], "/s",
            channel["per_s"], f"channel fan-out N={n:,}, best of {ROUNDS}", ">= 0.8x channel", ratio >= 0.8),
        Row("S6", f"deliveries/s {PERSONS:,} persons x {DEVICES_EACH}, engagement checks in play (best of {ROUNDS})",
            engaged["per_s"], "/s", direct["per_s"], f"checks idle, best of {ROUNDS}", ">= 0.9x idle",
            engaged["per_s"] >= 0.9 * direct["per_s"]),
    ]
    return rows, {"channel": channel, "direct": direct, "engaged": engaged, "runs": runs}


def _one(ctx: Ctx, mode: str, identifiers: list[str], cid: int, n: int) -> dict:
    """One run of a mode: the channel fan-out, or the direct sends (engaged or not)."""
    httpx.delete(f"{ctx.topo.sandbox}/sandbox/messages")
    # What the run before left (20,000 deliveries written twice) vacuumed now, not by an
    # autovacuum in the middle of this one.
    for table in ("deliveries", "notifications"):
        ctx.topo.sql(f"VACUUM ANALYZE {table}")
    if mode == "channel":
        got = fan_out(ctx, "s6-channel", n, "SENT", timeout=max(60, n / 250))
        print(f"   channel fan-out N={n:,}: {got['per_s']:,.0f} deliveries/s, CPU per delivery: worker"
              f" {got['worker_cpu_us_per_delivery']:.0f} us,"
              f" PostgreSQL {got['postgres_cpu_us_per_delivery']:.0f} us", flush=True)
    else:
        got = direct_fan_out(ctx, identifiers, timeout=max(60, n / 250))
        label = ", engagement checks in play" if mode == ENGAGED else ""
        print(f"   {PERSONS:,} persons x {DEVICES_EACH}{label}: {got['per_s']:,.0f} deliveries/s"
              f" ({got['sends']} sends of {PER_SEND:,}, {got['persons']:,} persons reached; sends accepted"
              f" after {got['accepted_s']:.2f} s, deliveries created {got['first_created_s']:.2f}-"
              f"{got['last_created_s']:.2f} s, all SENT {got['seconds']:.2f} s), CPU per delivery: worker"
              f" {got['worker_cpu_us_per_delivery']:.0f} us, PostgreSQL"
              f" {got['postgres_cpu_us_per_delivery']:.0f} us, API {got['api_cpu_us_per_delivery']:.0f} us",
              flush=True)
    return got

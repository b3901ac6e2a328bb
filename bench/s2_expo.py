"""S2 Expo fan-out: one notification to N Expo devices until every delivery is SENT, against the
naive SDK loop; plus the scale curve.
"""

from __future__ import annotations

import threading
import time

import httpx

from bench.cpu import CpuMeter
from bench.report import Row
from bench.topology import Ctx, Process

NAIVE_MESSAGES = 200


def naive_rate(sandbox: str, m: int) -> dict:
    """exponent-server-sdk as its README shows it: PushClient.publish, one message per request."""
    from exponent_server_sdk import PushClient, PushMessage

    client = PushClient(host=sandbox, api_url="/--/api/v2")
    client.publish(PushMessage(to="ExponentPushToken[naive-warm]", title="warm"))
    t0 = time.perf_counter()
    for i in range(m):
        client.publish(PushMessage(to=f"ExponentPushToken[naive-{i}]", title="bench", body="hello"))
    elapsed = time.perf_counter() - t0
    return {
        "messages": m,
        "seconds": elapsed,
        "per_s": m / elapsed,
        "us_per_message": elapsed / m * 1e6,
    }


class RssSampler(threading.Thread):
    """Peak resident memory of a process tree, sampled every 20 ms."""

    def __init__(self, proc: Process) -> None:
        super().__init__(daemon=True)
        self.proc, self.peak, self._halt = proc, proc.rss(), threading.Event()

    def run(self) -> None:
        while not self._halt.wait(0.02):
            self.peak = max(self.peak, self.proc.rss())

    def stop(self) -> int:
        self._halt.set()
        self.join()
        return self.peak


def seed(ctx: Ctx, cid: int, tag: str, n: int, platform: str = "EXPO") -> None:
    """N devices and their subscriptions in two set-based statements (setup, not measured)."""
    ctx.topo.sql(
        "INSERT INTO devices (platform, token, identifier, active, created_at)"
        " SELECT $1, 'ExponentPushToken[' || $2 || '-' || g || ']', $2, true, now()"
        " FROM generate_series(1, $3) AS g",
        platform,
        tag,
        n,
    )
    ctx.topo.sql(
        "INSERT INTO channel_subscriptions (channel, device, created_at)"
        " SELECT $1, id, now() FROM devices WHERE identifier = $2",
        cid,
        tag,
    )
    # Devices registered one by one over time would have been analyzed by autovacuum long ago;
    # 100k rows from one statement have not, and the planner would page through them blind. And
    # vacuumed: autovacuum would otherwise start on them (and on the last fan-out's deliveries)
    # during the measured fan-out, whenever its thresholds fall, slowing a run at random.
    vacuum(ctx, "devices", "channel_subscriptions", "deliveries")


def forget(ctx: Ctx, cid: int, tag: str) -> None:
    """A fan-out's devices (and with them their subscriptions, preferences and deliveries) and its
    notification, deleted: the next run starts from the tables this one found."""
    ctx.topo.sql("DELETE FROM devices WHERE identifier = $1", tag)
    ctx.topo.sql("DELETE FROM notifications WHERE channel = $1", cid)


def vacuum(ctx: Ctx, *tables: str) -> None:
    for table in tables:
        ctx.topo.sql(f"VACUUM ANALYZE {table}")


def fan_out(ctx: Ctx, channel: str, n: int, final: str, timeout: float) -> dict:
    """Send one notification and wait until its n deliveries are `final`; server-side end time."""
    topo = ctx.topo
    sampler = RssSampler(topo.procs["worker"])
    rss_before = sampler.peak
    sampler.start()
    meter = CpuMeter(topo)
    t0 = time.time()
    nid = int(ctx.send(channel)["id"])
    deadline = time.monotonic() + timeout
    done = 0
    while time.monotonic() < deadline:
        done = topo.sql(
            "SELECT count(*) AS n FROM deliveries WHERE notification = $1 AND status = $2",
            nid,
            final,
        )[0]["n"]
        if done >= n:
            break
        time.sleep(0.1)
    peak = sampler.stop()
    cpu = meter.stop()
    row = topo.sql(
        "SELECT extract(epoch FROM max(updated_at)) AS last,"
        " count(*) FILTER (WHERE status <> $2) AS other FROM deliveries WHERE notification = $1",
        nid,
        final,
    )[0]
    if done < n:
        raise RuntimeError(
            f"{done}/{n} deliveries {final} after {timeout}s ({row['other']} in other states)"
        )
    seconds = float(row["last"]) - t0
    return {
        "n": n,
        "seconds": seconds,
        "per_s": n / seconds,
        "us_per_delivery": seconds / n * 1e6,
        "worker_rss_before_mib": rss_before / 2**20,
        "worker_peak_rss_mib": peak / 2**20,
        "worker_rss_growth_mib": (peak - rss_before) / 2**20,
        "worker_cpu_us_per_delivery": cpu["worker"] / n * 1e6,
        "postgres_cpu_us_per_delivery": cpu["postgres"] / n * 1e6,
    }


ENGAGEMENT_N = 10_000
ENGAGEMENT_ROUNDS = 5  # best of 5: on a box whose draws varied by a third, 3 gave 0.73x to 1.29x


def engage(ctx: Ctx, cid: int, tag: str, other: int, *, on: bool) -> None:
    """In play, every engagement check without holding anything back: each device has
    preferences (another channel muted, quiet hours later today), the channel a digest window
    (a first notification to a device goes at once) and the app an hourly cap per recipient.
    Idle, none of it, through the very same steps, so that the two runs differ only in that."""
    topo = ctx.topo
    later = time.gmtime(time.time() + 2 * 3600)
    start, end = f"{later.tm_hour:02d}:00", f"{(later.tm_hour + 1) % 24:02d}:00"
    topo.sql(
        "INSERT INTO preferences (app, device, muted_channels, quiet_start, quiet_end, time_zone, updated_at)"
        " SELECT $1, id, $2, $3, $4, 'UTC', now() FROM devices WHERE identifier = $5 AND $6",
        ctx.app_id, f"[{other}]", start, end, tag, on,
    )
    topo.sql("UPDATE channels SET digest_window = $2 WHERE id = $1", cid, 60 if on else None)
    topo.sql("UPDATE apps SET person_hourly_cap = $2 WHERE id = $1", ctx.app_id, 1000 if on else None)
    vacuum(ctx, "preferences")


def engagement_pair(ctx: Ctx) -> dict:
    """The same fan-out with the engagement checks idle and in play, ENGAGEMENT_ROUNDS times each,
    alternating, each round starting with the other mode than the last (a run right after
    another pays for what that one left behind: autovacuum, the sweep); the best of each (the
    box's noise only ever slows a run)."""
    runs: dict[str, list[dict]] = {"off": [], "on": []}
    other = ctx.channel(f"s2-muted-{time.time_ns()}")  # the channel the preferences mute
    try:
        for round_ in range(ENGAGEMENT_ROUNDS):
            for mode in ("off", "on") if round_ % 2 == 0 else ("on", "off"):
                name = f"s2-engagement-{mode}-{round_}"
                cid = ctx.channel(name)
                tag = f"{name}-{time.time_ns()}"
                seed(ctx, cid, tag, ENGAGEMENT_N)
                engage(ctx, cid, tag, other, on=mode == "on")
                httpx.delete(f"{ctx.topo.sandbox}/sandbox/messages")
                runs[mode].append(fan_out(ctx, name, ENGAGEMENT_N, "SENT", timeout=120))
                # Every run starts from the same tables: a run on tables grown by the ones before
                # would be slower for that alone, and the modes take turns.
                forget(ctx, cid, tag)
                ctx.topo.sql("UPDATE apps SET person_hourly_cap = NULL WHERE id = $1", ctx.app_id)
    finally:
        ctx.topo.sql("UPDATE apps SET person_hourly_cap = NULL WHERE id = $1", ctx.app_id)
    best = {mode: max(r, key=lambda x: x["per_s"]) for mode, r in runs.items()}
    for mode, r in best.items():
        print(
            f"   engagement {mode:>3}, N={ENGAGEMENT_N:,}: {r['per_s']:,.0f} deliveries/s, CPU per delivery:"
            f" worker {r['worker_cpu_us_per_delivery']:.0f} us, PostgreSQL {r['postgres_cpu_us_per_delivery']:.0f} us",
            flush=True,
        )
    return {"runs": runs, "best": best}


WARM_UP = 10_000


def warm_up_fan_out(ctx: Ctx) -> dict:
    """One fan-out before the curve, unmeasured (its rate is in the results as `warm_up`), as S7
    and S8 make one: the curve is a running worker's, not one making its first ten batches side by
    side (each database connection preparing the send path's statements, the Expo client opening
    its pool of connections). After a worker starts, its first 10k fan-out went at about 60% of
    the rate of the next."""
    cid = ctx.channel("s2-warm-up")
    tag = f"s2-warm-up-{time.time_ns()}"
    seed(ctx, cid, tag, WARM_UP)
    httpx.delete(f"{ctx.topo.sandbox}/sandbox/messages")
    result = fan_out(ctx, "s2-warm-up", WARM_UP, "SENT", timeout=120)
    print(f"   warm-up, N={WARM_UP:,} (unmeasured): {result['per_s']:,.0f} deliveries/s", flush=True)
    forget(ctx, cid, tag)
    return result


def run(ctx: Ctx) -> tuple[list[Row], dict]:
    ctx.topo.ensure_workers()
    sizes = [1_000, 10_000] if ctx.quick else [1_000, 10_000, 100_000]
    naive = naive_rate(ctx.topo.sandbox, 100 if ctx.quick else NAIVE_MESSAGES)
    warm_up = warm_up_fan_out(ctx)
    curve: list[dict] = []
    incomplete = None
    for n in sizes:
        name = f"s2-{n}"
        cid = ctx.channel(name)
        seed(ctx, cid, f"{name}-{time.time_ns()}", n)
        httpx.delete(f"{ctx.topo.sandbox}/sandbox/messages")
        try:
            curve.append(fan_out(ctx, name, n, "SENT", timeout=max(60, n / 250)))
        except RuntimeError as exc:  # report the sizes that finished, and say which did not
            print(f"   N={n:>7,}: {exc}", flush=True)
            incomplete = {"n": n, "error": str(exc)}
            break
        print(
            f"   N={n:>7,}: {curve[-1]['per_s']:,.0f} deliveries/s, {curve[-1]['us_per_delivery']:.0f} us each,"
            f" worker peak RSS {curve[-1]['worker_peak_rss_mib']:.0f} MiB, CPU per delivery:"
            f" worker {curve[-1]['worker_cpu_us_per_delivery']:.0f} us,"
            f" PostgreSQL {curve[-1]['postgres_cpu_us_per_delivery']:.0f} us",
            flush=True,
        )
    if not curve:
        raise RuntimeError(f"no fan-out finished: {incomplete}")
    top, small, prev = curve[-1], curve[0], curve[-2] if len(curve) > 1 else curve[0]
    flat = top["us_per_delivery"] / prev["us_per_delivery"]
    rss_extra = top["worker_peak_rss_mib"] - small["worker_peak_rss_mib"]
    rows = [
        Row(
            "S2",
            f"deliveries/s N={top['n']:,}",
            top["per_s"],
            "/s",
            naive["per_s"],
            "naive SDK loop",
            ">= 15k/s and >= 10x naive",
            top["per_s"] >= 15_000 and top["per_s"] >= 10 * naive["per_s"],
        ),
        Row(
            "S2",
            f"cost/delivery N={top['n']:,} vs {prev['n']:,}",
            top["us_per_delivery"],
            "us",
            prev["us_per_delivery"],
            f"N={prev['n']:,}",
            "flat: <= 1.25x",
            flat <= 1.25,
            False,
        ),
        Row(
            "S2",
            f"worker peak RSS N={top['n']:,} vs {small['n']:,}",
            top["worker_peak_rss_mib"],
            "MiB",
            small["worker_peak_rss_mib"],
            f"N={small['n']:,}",
            "< +64 MiB (a batch)",
            rss_extra < 64,
            False,
        ),
    ]
    engagement = engagement_pair(ctx)
    on, off = engagement["best"]["on"], engagement["best"]["off"]
    rows.append(Row(
        "S2", f"deliveries/s, engagement checks in play, N={ENGAGEMENT_N:,}", on["per_s"], "/s", off["per_s"],
        "checks idle", ">= 0.9x idle", on["per_s"] >= 0.9 * off["per_s"],
    ))
    if incomplete:
        rows.append(
            Row(
                "S2",
                f"fan-out N={incomplete['n']:,} did not finish",
                0,
                "",
                None,
                "",
                "finishes",
                False,
            )
        )
    return rows, {"naive": naive, "warm_up": warm_up, "curve": curve, "incomplete": incomplete,
                  "engagement": engagement}

"""Send tasks: claim a batch of PENDING deliveries, hand them to their provider, record outcomes.

The claim's lease, not the queue, decides who sends a row: any number of tasks may carry the
same ids (a re-kick, a redelivered message, a retry timer), and only the lease holder sends.
What the provider accepted is recorded even across a database outage: the record is written
only to rows that still carry this sender's claim, so it may go on trying after the lease has
run out, and only rows the sweep meanwhile handed to another sender are left to that sender.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from api import db, outage
from api.apps import credentials
from api.backoff import backoff
from api.channels.tables import Channel
from api.delivery import ledger, native_payload, payload, pipeline
from api.delivery.providers import providers
from api.devices.tables import Device
from api.engagement import gate
from api.notifications import service as notifications
from api.people import reads
from api.providers.expo import MAX_MESSAGES_PER_REQUEST
from api.providers.failures import Outcome, ProviderFailure, TransientFailure
from api.runtime import Runtime

log = logging.getLogger("booper.delivery")
_retry_timers: set[asyncio.Task] = set()
DATABASE_GONE = outage.DATABASE_GONE  # what a record waits out (api/outage.py)


async def _load(claimed: list[dict]) -> tuple[dict[int, dict], dict[int, dict]]:
    ids = list({d["device"] for d in claimed})
    columns = "SELECT id, token, active, p256dh, auth, app FROM devices WHERE"
    if db.is_postgres(db.current_engine()):  # straight through asyncpg: a batch's thousand rows as they come
        rows = await db.fetch_records(f"{columns} id = ANY($1::bigint[])", ids)
    else:
        where, args = ledger.ids_in("id", ids)
        rows = await Device.raw(f"{columns} {where}", *args)
    devices = {r["id"]: r for r in rows}
    notes = [n for n in await notifications.get_many(list({d["notification"] for d in claimed})) if n]
    return devices, {n["id"]: n for n in notes}


def _unsendable(delivery: dict, device: dict | None, n: dict | None, now: dt.datetime) -> str | None:
    """Why a claimed delivery must not go out any more, if it must not."""
    if n is None or n["status"] == "CANCELED":
        return "Canceled"
    if device is None or not device["active"]:
        return "DeviceInactive"
    ttl = n["ttl"]
    # ttl 0 means "now or never" (RFC 8030, Expo): the first attempt is always made, retries not.
    if ttl is not None and now > delivery["created_at"] + dt.timedelta(seconds=ttl) and (
        ttl > 0 or delivery["attempts"] > 0
    ):
        return "Expired"
    return None


# How long past its lease a sender goes on trying to record what a provider accepted, while the
# database is away: its rows stay its own until the sweep, back with the database, re-kicks them.
RECORD_PATIENCE = 900.0
RECORD_LOG_EVERY = 30.0  # seconds between warnings while it waits


@dataclass(frozen=True)
class Lease:
    """A sender's claim on a batch: `until`, the stamp the claim wrote on its rows (a record is
    written only where it is still there), and `deadline`, the monotonic time at which the lease
    runs out, less a margin for the write itself (taken before the claim, so it errs early)."""

    until: dt.datetime
    deadline: float

    @classmethod
    def taken(cls, runtime: Runtime, now: dt.datetime) -> Lease:
        seconds = runtime.settings.delivery_lease
        return cls(now + dt.timedelta(seconds=seconds), time.monotonic() + seconds - min(5.0, seconds / 4))

    async def claim(self, ids: list[int], now: dt.datetime) -> list[dict]:
        return await ledger.claim(ids, now, self.until - now)


async def send_expo(runtime: Runtime, delivery_ids: list[int]) -> None:
    """A task carries up to pipeline.SEND_BATCH ids: claimed, loaded and recorded once, sent as
    concurrent requests of Expo's maximum 100 messages each."""
    expo = providers(runtime).expo
    # Only rows another sender has not settled or leased cost pacing: the same ids may sit in
    # several tasks (the sweep re-kicks rows still queued behind the pacer), and a task whose
    # rows went out meanwhile must not hold back the others' share of Expo's rate.
    open_ids = await ledger.claimable(delivery_ids, dt.datetime.now(dt.UTC))
    if not open_ids:
        return
    # Pace before leasing: a task queued behind Expo's rate (600/s) must not hold leases that
    # run out while it waits, or the sweep would hand the same rows to a second sender.
    await expo.pacer.acquire(len(open_ids))
    now = dt.datetime.now(dt.UTC)
    lease = Lease.taken(runtime, now)
    claimed = await lease.claim(open_ids, now)
    if not claimed:
        return
    devices, notes = await _load(claimed)
    changes, ready = _split(claimed, devices, notes, now)
    ready = await gate.screen(runtime, ready, notes, now)  # muted / quiet hours: SKIPPED or HELD
    if not ready:
        await ledger.apply(runtime, changes, retry_at=None, lease_until=lease.until)
        return
    step = MAX_MESSAGES_PER_REQUEST
    # Requests per access token: an app's own (setExpoAccessToken), else the server's (None).
    creds = await credentials.credentials_of_apps({n["app"] for n in notes.values() if n["app"]}, runtime.secret_key)
    by_token: dict[str | None, list[dict]] = {}
    for d in ready:
        app_creds = creds.get(notes[d["notification"]]["app"])
        by_token.setdefault(app_creds.expo_access_token if app_creds else None, []).append(d)
    ready = [d for group in by_token.values() for d in group]  # outcomes come back in this order

    shown = gate.with_digests(ready, await reads.notes_with_badges(ready, notes))  # badges, digest texts

    messages_of = payload.ExpoMessages()

    async def request(chunk: list[dict], access_token: str | None) -> list:
        messages = [messages_of(devices[d["device"]]["token"], shown[d["id"]]) for d in chunk]
        try:
            return await expo.send(messages, paced=True, access_token=access_token)
        except ProviderFailure as failure:  # the whole request failed: same verdict for each
            return [failure] * len(chunk)

    results = await asyncio.gather(*(
        request(group[i : i + step], token) for token, group in by_token.items() for i in range(0, len(group), step)
    ))
    await _record(runtime, changes, ready, [o for chunk in results for o in chunk], lease, notes)


async def send_webpush(runtime: Runtime, delivery_ids: list[int]) -> None:
    sender = providers(runtime).webpush
    declarative_hosts = runtime.settings.webpush_declarative_hosts

    async def prepare(devices: dict[int, dict], notes: dict[int, dict]) -> SendOne:
        channel_names = {
            r["id"]: r["name"]
            for r in await Channel.select(Channel.id, Channel.name).where(
                Channel.id.is_in(list({n["channel"] for n in notes.values() if n["channel"] is not None}) or [0])
            )
        }
        # Per notification (and badge), not per device: payloads (classic, and declarative for
        # Safari's push service), TTL, urgency and topic; the sender encrypts per device.
        per_note: dict[tuple, tuple] = {}

        def prepared(n: dict) -> tuple:
            key = native_payload.variant(n)
            if key not in per_note:
                name = channel_names.get(n["channel"], "")
                per_note[key] = (
                    payload.webpush_payload(n, name), native_payload.declarative_webpush_payload(n, name),
                    n["ttl"] if n["ttl"] is not None else 2419200, payload.WEBPUSH_URGENCY[n["priority"]],
                    payload.webpush_topic(n),
                )
            return per_note[key]

        async def send_one(d: dict, device: dict, n: dict) -> Outcome:
            classic, declarative, ttl, urgency, topic = prepared(n)
            body = declarative if native_payload.takes_declarative(device["token"], declarative_hosts) else classic
            return await sender.send(
                device["token"], device["p256dh"], device["auth"], body, ttl=ttl, urgency=urgency, topic=topic
            )

        return send_one

    await send_individually(runtime, delivery_ids, sender.concurrency, prepare)


SendOne = Callable[[dict, dict, dict], Awaitable[Outcome | ProviderFailure]]


async def send_individually(
    runtime: Runtime, delivery_ids: list[int], concurrency: int,
    prepare: Callable[[dict[int, dict], dict[int, dict]], Awaitable[SendOne]],
) -> None:
    """For providers that take one message per request (Web Push, FCM, APNs): claim the batch,
    load its devices and notifications once, `prepare` what is shared (payloads per notification,
    credentials per app), send each with `concurrency` requests in flight, record in one write."""
    now = dt.datetime.now(dt.UTC)
    lease = Lease.taken(runtime, now)
    claimed = await lease.claim(delivery_ids, now)
    if not claimed:
        return
    devices, notes = await _load(claimed)
    changes, ready = _split(claimed, devices, notes, now)
    ready = await gate.screen(runtime, ready, notes, now)  # muted / quiet hours: SKIPPED or HELD
    send_one = await prepare(devices, notes) if ready else None
    shown = gate.with_digests(ready, await reads.notes_with_badges(ready, notes))  # badges, digest texts
    outcomes: list = [None] * len(ready)
    pending = iter(enumerate(ready))

    async def runner() -> None:
        for i, d in pending:
            outcomes[i] = await send_one(d, devices[d["device"]], shown[d["id"]])

    # As many runners as the sender has slots, each taking the next delivery, keep the slots full;
    # a task per delivery (1,000 a batch) cost about 7 us each in task switches and semaphore waits.
    await asyncio.gather(*(runner() for _ in range(min(concurrency, len(ready)))))
    await _record(runtime, changes, ready, outcomes, lease, notes)


def _split(claimed, devices, notes, now) -> tuple[list[ledger.Change], list[dict]]:
    changes, ready = [], []
    for d in claimed:
        reason = _unsendable(d, devices.get(d["device"]), notes.get(d["notification"]), now)
        if reason:
            changes.append(ledger.Change(d, "FAILED", error=reason))
        else:
            ready.append(d)
    return changes, ready


async def _apply_while_ours(runtime: Runtime, changes: list[ledger.Change], lease: Lease, **kw) -> list[dict]:
    """Record outcomes the provider already has; the rows written. If the database went away,
    wait for it and record them when it returns: re-sending is what a lost record would cost.
    The write takes only rows still under this claim, so it may go on past the lease: a row
    handed to another sender meanwhile (by the sweep, or the queue redelivering this task) is
    that sender's to record, and its device gets the push twice."""
    delay, started, logged = 0.1, time.monotonic(), -RECORD_LOG_EVERY
    while True:
        try:
            written = await ledger.apply(runtime, changes, lease_until=lease.until, **kw)
        except DATABASE_GONE as exc:
            now = time.monotonic()
            if now + delay >= lease.deadline + RECORD_PATIENCE:
                log.error("could not record %d outcomes in %.0f s past the lease: %r",
                          len(changes), RECORD_PATIENCE, exc)
                raise
            if now - logged >= RECORD_LOG_EVERY:  # a line a while, not one per try
                log.warning("database unavailable (%r); still recording %d outcomes after %.0f s",
                            exc, len(changes), now - started)
                logged = now
            await asyncio.sleep(delay)
            # Past the lease, the sweep may hand the rows on as soon as the database is back:
            # try often enough to be first.
            delay = min(delay * 2, 2.0 if time.monotonic() < lease.deadline else 0.25)
            continue
        if len(written) < len(changes):
            await _log_taken(changes, written, lease)
        return written


async def _log_taken(changes: list[ledger.Change], written: list[dict], lease: Lease) -> None:
    """Of the rows not written, those another sender holds now (a claim other than this one's):
    their devices may get the push twice. The rest were settled meanwhile (canceled, retracted,
    deleted), which is no one's fault."""
    done = {r["id"] for r in written}
    where, args = ledger.ids_in("id", [c.delivery["id"] for c in changes if c.delivery["id"] not in done])
    rows = db.parse_timestamps(await ledger.raw(f"SELECT id, lease_until FROM deliveries WHERE {where}", *args),
                               "lease_until")
    taken = sum(1 for r in rows if r["lease_until"] is not None and r["lease_until"] != lease.until)
    if taken:
        log.warning("%d of %d outcomes not recorded: their rows went to another sender after this one's"
                    " lease ran out, and those devices may get the push twice", taken, len(changes))


async def _record(
    runtime: Runtime, changes: list[ledger.Change], ready: list[dict], outcomes: list, lease: Lease,
    notes: dict[int, dict],
) -> None:
    settings = runtime.settings
    failures: dict[int, ProviderFailure] = {}
    retry_after: float | None = None
    for d, outcome in zip(ready, outcomes, strict=True):
        if isinstance(outcome, ProviderFailure):
            change = ledger.change_for_failure(d, outcome, settings.max_attempts)
            failure = outcome
        else:
            change = ledger.change_for(d, outcome, settings.max_attempts)
            failure = outcome.failure
        if failure is not None:
            failures[d["id"]] = failure
            if isinstance(failure, TransientFailure) and failure.retry_after:
                retry_after = max(retry_after or 0, failure.retry_after)
        changes.append(change)
    retrying = [c for c in changes if c.status == "PENDING"]
    retry_at = None
    if retrying:
        attempts = max(c.delivery["attempts"] + 1 for c in retrying)
        delay = backoff(attempts, settings.retry_base_delay, settings.retry_max_delay, retry_after)
        retry_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)
    from api.engagement import replacements  # it sends through this module's senders

    catch_up = replacements.CatchUp(notes)  # edits and retractions made while these were in flight
    written = await _apply_while_ours(runtime, changes, lease, retry_at=retry_at,
                                      dead_devices=ledger.dead_devices_of(changes, failures),
                                      last_in_transaction=catch_up.read)
    if retrying:  # after the record: a timer that fired before it would find the rows leased
        ours = {r["id"] for r in written if r["status"] == "PENDING"}  # not another sender's
        _schedule_retry(runtime, [c for c in retrying if c.delivery["id"] in ours], delay)
    await catch_up.push(runtime, written)


def _schedule_retry(runtime: Runtime, retrying: list[ledger.Change], delay: float) -> None:
    """Best effort in this process; if it dies first, the sweep finds the overdue rows."""
    if not retrying:
        return
    rows = [{"id": c.delivery["id"], "platform": c.delivery["platform"]} for c in retrying]

    async def later() -> None:
        await asyncio.sleep(delay)
        await pipeline.kick_sends(runtime, rows, priority=None)  # BUSINESS apps keep their queue

    task = asyncio.get_running_loop().create_task(later())
    _retry_timers.add(task)
    task.add_done_callback(_retry_timers.discard)

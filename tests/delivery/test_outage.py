"""A send whose outcome could not be recorded because the database went away is recorded when
the database returns, and is not sent again: within the lease, and past it for rows no other
sender took meanwhile (the record is written only under the sender's own claim)."""

from __future__ import annotations

import datetime as dt
import logging
import time

import asyncpg
import pytest

from api import db
from api.delivery import ledger, senders
from api.delivery.pipeline import send_task
from api.notifications.tables import Delivery
from tests.delivery.helpers import delivery_rows, eventually, eventually_sync, send, setup_channel
from tests.delivery.test_sweep import LostTasks


class DatabaseOutage:
    """ledger.apply for these deliveries fails the way asyncpg does while PostgreSQL is stopped:
    `times` times, or for `seconds`, or (neither) for ever; everything else records normally.
    `during(refused)` runs at each refusal (what the rest of the world does meanwhile)."""

    def __init__(self, monkeypatch, ids: set[int], times: int | None = None, seconds: float | None = None,
                 during=None, error: Exception | None = None) -> None:
        self.ids, self.times, self.refused, self.during = ids, times, 0, during
        self.error = error or ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")
        self.until = time.monotonic() + seconds if seconds is not None else None
        self._apply = ledger.apply
        monkeypatch.setattr(ledger, "apply", self.apply)

    def _down(self) -> bool:
        if self.times is not None:
            return self.refused < self.times
        return self.until is None or time.monotonic() < self.until

    async def apply(self, runtime, changes, **kw):
        if {c.delivery["id"] for c in changes} & self.ids and self._down():
            self.refused += 1
            if self.during:
                await self.during(self.refused)
            raise self.error
        return await self._apply(runtime, changes, **kw)


async def _pending_batch(api, runtime, monkeypatch, devices: int) -> tuple[list[dict], list[int]]:
    """A notification's deliveries, PENDING, with their send task held back so the test runs it."""
    LostTasks(monkeypatch, runtime, send_task("EXPO"))
    app, channel, devs = await setup_channel(api, expo=devices)
    sent = await send(api, app, channelId=channel["id"], title="outage")

    async def rows():
        r = await delivery_rows(sent["id"])
        return r if len(r) == devices else None

    return devs, [r["id"] for r in await eventually(rows, what="deliveries")]


# What a pooled connection raised on PostgreSQL's restart in a CI chaos run, besides the usual:
# the connection was cut in the middle of an operation.
CUT_MID_PROTOCOL = asyncpg.InternalClientError("cannot switch to state 11; another operation (2) is in progress")


@pytest.mark.parametrize("error", [None, CUT_MID_PROTOCOL], ids=["refused", "cut-mid-protocol"])
async def test_outcomes_are_recorded_when_the_database_returns_not_sent_again(api, sandbox, runtime, monkeypatch,
                                                                              error):
    devs, ids = await _pending_batch(api, runtime, monkeypatch, devices=3)
    outage = DatabaseOutage(monkeypatch, set(ids), times=3, error=error)

    await senders.send_expo(runtime, ids)

    assert outage.refused == 3  # the record was refused three times, then written
    rows = {r["id"]: r for r in await delivery_rows_by_id(ids)}
    assert {r["status"] for r in rows.values()} == {"SENT"}
    assert all(r["lease_until"] is None and r["attempts"] == 1 for r in rows.values())
    # Each device got it once; another run of the same task finds nothing to send.
    await senders.send_expo(runtime, ids)
    assert sorted(m["to"] for m in sandbox.messages()) == sorted(d["token"] for d in devs)


async def test_an_outage_longer_than_the_lease_is_recorded_when_the_database_returns(api, sandbox, runtime, monkeypatch):
    """Before, a sender gave up recording as its lease ran out, and the sweep sent every row of the
    batch again (900 duplicate pushes in one chaos run): now nobody else took the rows, so the
    sender still records them."""
    devs, ids = await _pending_batch(api, runtime, monkeypatch, devices=2)
    monkeypatch.setattr(runtime.settings, "delivery_lease", 1.0)
    outage = DatabaseOutage(monkeypatch, set(ids), seconds=2.5)

    started = time.monotonic()
    await senders.send_expo(runtime, ids)

    assert time.monotonic() - started > 2.5 and outage.refused >= 3  # recorded after the lease ran out
    rows = await delivery_rows_by_id(ids)
    assert {r["status"] for r in rows} == {"SENT"}
    assert all(r["lease_until"] is None and r["attempts"] == 1 for r in rows)
    await senders.send_expo(runtime, ids)  # a re-kick finds nothing left to send
    assert sorted(m["to"] for m in sandbox.messages()) == sorted(d["token"] for d in devs)


async def test_rows_another_sender_took_after_the_lease_are_left_to_it(api, sandbox, runtime, monkeypatch, caplog):
    """The sweep handed one row to another sender while the database was away from this one (its
    lease had run out): this sender records the other two and leaves that one to its new owner."""
    devs, ids = await _pending_batch(api, runtime, monkeypatch, devices=3)
    monkeypatch.setattr(runtime.settings, "delivery_lease", 1.0)
    taken: list[dict] = []

    async def another_sender_claims(refused: int) -> None:
        if not taken and refused >= 2:
            later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)  # past this sender's lease
            taken.extend(await ledger.claim(ids[:1], later, dt.timedelta(seconds=60)))

    outage = DatabaseOutage(monkeypatch, set(ids), seconds=1.5, during=another_sender_claims)
    with caplog.at_level(logging.WARNING, logger="booper.delivery"):
        await senders.send_expo(runtime, ids)

    assert outage.refused >= 2 and [t["id"] for t in taken] == ids[:1]
    rows = {r["id"]: r for r in await delivery_rows_by_id(ids)}
    other = rows[ids[0]]
    assert (other["status"], other["attempts"]) == ("PENDING", 0)  # the other sender's to record
    assert other["lease_until"] is not None
    assert [(rows[i]["status"], rows[i]["lease_until"]) for i in ids[1:]] == [("SENT", None), ("SENT", None)]
    assert "1 of 3 outcomes not recorded" in caplog.text
    assert len(sandbox.messages()) == len(devs)


async def test_a_sender_gives_up_recording_after_its_patience(api, sandbox, runtime, monkeypatch):
    devs, ids = await _pending_batch(api, runtime, monkeypatch, devices=2)
    DatabaseOutage(monkeypatch, set(ids))  # for ever
    monkeypatch.setattr(runtime.settings, "delivery_lease", 1.0)
    monkeypatch.setattr(senders, "RECORD_PATIENCE", 1.0)

    started = time.monotonic()
    with pytest.raises(ConnectionRefusedError):
        await senders.send_expo(runtime, ids)
    assert 1.0 < time.monotonic() - started < 3.0  # lease (less its margin) and patience
    # The rows stay leased, then PENDING for the sweep: in flight, as at a crash.
    rows = await delivery_rows_by_id(ids)
    assert {r["status"] for r in rows} == {"PENDING"} and all(r["lease_until"] is not None for r in rows)
    assert len(sandbox.messages()) == len(devs)


@pytest.mark.parametrize("change", ["retract", "edit"])
async def test_a_change_made_while_in_flight_reaches_the_devices_it_missed(api, sandbox, runtime, monkeypatch, change):
    """A retraction or an edit while the push is at the provider: the sender's record still lands
    (the ledger does not hide a device it reached), and since the change's own replacement task
    may have listed the reached devices before that record (here it is lost, as if it had), the
    sender pushes the replacement to them itself."""
    from api.delivery.pipeline import PUSH_REPLACEMENTS
    from api.engagement import edits
    from api.notifications import service as notifications

    devs, ids = await _pending_batch(api, runtime, monkeypatch, devices=2)
    LostTasks(monkeypatch, runtime, send_task("EXPO"), PUSH_REPLACEMENTS)
    row = await Delivery.select(Delivery.notification).where(Delivery.id == ids[0]).first()
    real_apply = ledger.apply

    async def change_then_apply(rt, changes, **kw):
        if {c.delivery["id"] for c in changes} & set(ids):
            note = await notifications.get(row["notification"])
            if change == "retract":
                await edits.retract_notification(rt, note)
            else:
                await edits.update_notification(rt, note, "", title="corrected")
        return await real_apply(rt, changes, **kw)

    monkeypatch.setattr(ledger, "apply", change_then_apply)
    await senders.send_expo(runtime, ids)

    assert {r["status"] for r in await delivery_rows_by_id(ids)} == {"SENT"}
    for device in devs:
        first, second = sandbox.messages(to=device["token"])
        assert first["message"]["title"] == "outage"
        event = {"retract": "retracted", "edit": "updated"}[change]
        assert second["message"]["data"] == {"notificationId": str(row["notification"]), "notificationEvent": event}
        if change == "edit":
            assert second["message"]["title"] == "corrected"


async def test_an_edit_after_the_record_is_pushed_once(api, sandbox, runtime, monkeypatch):
    """An edit that commits after the record (the usual case: long after the send) is the edit's
    own task's to push, which finds the record: the sender pushes nothing more (a CI run had it
    push a second replacement, read after its commit, when the edit came in between)."""
    from api.engagement import edits
    from api.notifications import service as notifications

    devs, ids = await _pending_batch(api, runtime, monkeypatch, devices=2)
    row = await Delivery.select(Delivery.notification).where(Delivery.id == ids[0]).first()
    real_apply = ledger.apply

    async def apply_then_edit(rt, changes, **kw):  # the edit commits right after the record
        written = await real_apply(rt, changes, **kw)
        note = await notifications.get(row["notification"])
        await edits.update_notification(rt, note, "", title="corrected")
        await eventually_sync(lambda: len(sandbox.messages()) == 2 * len(devs), what="the edit's own replacements")
        return written

    monkeypatch.setattr(ledger, "apply", apply_then_edit)
    await senders.send_expo(runtime, ids)

    for device in devs:
        first, second = sandbox.messages(to=device["token"])  # the send and one replacement
        assert (first["message"]["title"], second["message"]["title"]) == ("outage", "corrected")


async def test_no_replacement_without_a_change(api, sandbox, runtime, monkeypatch):
    devs, ids = await _pending_batch(api, runtime, monkeypatch, devices=2)
    await senders.send_expo(runtime, ids)
    assert sorted(m["to"] for m in sandbox.messages()) == sorted(d["token"] for d in devs)


async def test_a_failure_recorded_past_the_lease_writes_history_and_timers_only_for_its_own_rows(
        api, sandbox, runtime, monkeypatch):
    """The provider refused the batch for now (a retry due); meanwhile another sender took one
    row. That row gets no attempt from this sender (its attempts count and history still agree)
    and no retry timer of this sender's."""
    from api.notifications.tables import DeliveryAttempt

    monkeypatch.setattr(runtime.settings, "retry_base_delay", 0.2)
    monkeypatch.setattr(runtime.settings, "retry_max_delay", 0.2)
    devs, ids = await _pending_batch(api, runtime, monkeypatch, devices=3)
    kicked = LostTasks(monkeypatch, runtime, send_task("EXPO"))  # where the retry timers' kicks land
    sandbox.faults({"provider": "expo", "fault": "http_500", "times": 1})
    monkeypatch.setattr(runtime.settings, "delivery_lease", 1.0)
    taken: list[dict] = []

    async def another_sender_claims(refused: int) -> None:
        if not taken and refused >= 2:
            later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
            taken.extend(await ledger.claim(ids[:1], later, dt.timedelta(seconds=60)))

    DatabaseOutage(monkeypatch, set(ids), seconds=1.5, during=another_sender_claims)
    await senders.send_expo(runtime, ids)

    rows = {r["id"]: r for r in await delivery_rows_by_id(ids)}
    history = await DeliveryAttempt.select(DeliveryAttempt.delivery).where(DeliveryAttempt.delivery.is_in(ids))
    assert sorted(h["delivery"] for h in history) == sorted(ids[1:])
    assert [rows[i]["attempts"] for i in ids] == [0, 1, 1]
    await eventually_sync(lambda: _kicked_ids(kicked), what="the retry timer's kick")
    assert _kicked_ids(kicked) == set(ids[1:])


def _kicked_ids(kicked: LostTasks) -> set[int]:
    return {i for _, args in kicked.lost for i in args[0]}


async def test_a_row_canceled_while_in_flight_is_not_reported_as_taken(api, sandbox, runtime, monkeypatch, caplog):
    """A retry the provider asked for, of a row canceled meanwhile, is not written (a retry never
    revives a settled row): that is no other sender's doing, and the log does not say it is."""
    from api.notifications import service as notifications

    devs, ids = await _pending_batch(api, runtime, monkeypatch, devices=2)
    sandbox.faults({"provider": "expo", "fault": "http_500", "times": 1})
    row = await Delivery.select(Delivery.notification).where(Delivery.id == ids[0]).first()
    real_apply = ledger.apply

    async def cancel_then_apply(rt, changes, **kw):
        note = await notifications.get(row["notification"])
        if note["status"] != "CANCELED":
            await notifications.cancel(note)
        return await real_apply(rt, changes, **kw)

    monkeypatch.setattr(ledger, "apply", cancel_then_apply)
    with caplog.at_level(logging.WARNING, logger="booper.delivery"):
        await senders.send_expo(runtime, ids)
    assert {(r["status"], r["error"]) for r in await delivery_rows_by_id(ids)} == {("FAILED", "Canceled")}
    assert "another sender" not in caplog.text


async def delivery_rows_by_id(ids: list[int]) -> list[dict]:
    return await Delivery.select().where(Delivery.id.is_in(ids))


class CutMidTransaction:
    """The record's transaction loses its connection after its first statement, as when PostgreSQL
    stops in the middle of it: the backend is terminated (`times` times), the way a shutdown ends it."""

    def __init__(self, monkeypatch, times: int = 1) -> None:
        self.left, self._write = times, ledger._write_changes
        monkeypatch.setattr(ledger, "_write_changes", self.write)

    async def write(self, *args, **kw):
        if self.left:
            self.left -= 1
            connection = db.current_engine().current_transaction.get().connection
            await connection.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return await self._write(*args, **kw)


async def test_a_record_whose_transaction_was_cut_is_written_on_a_fresh_connection(
    api, sandbox, runtime, monkeypatch, settings
):
    """A CI chaos run: PostgreSQL stopped while a sender's record was in its transaction. The
    rollback on the dead connection failed, and the transaction (Piccolo's) left itself as the
    task's current one: every later try ran on the dead connection, the lease ran out, and the
    sweep sent the batch's 1,000 rows again. Now the next try opens a transaction of its own."""
    if not settings.is_postgres:
        pytest.skip("terminates its own PostgreSQL backend")
    devs, ids = await _pending_batch(api, runtime, monkeypatch, devices=3)
    monkeypatch.setattr(runtime.settings, "delivery_lease", 1.0)
    monkeypatch.setattr(senders, "RECORD_PATIENCE", 2.0)  # before: gave up after it, every try refused
    cut = CutMidTransaction(monkeypatch)

    await senders.send_expo(runtime, ids)

    assert cut.left == 0
    rows = await delivery_rows_by_id(ids)
    assert {r["status"] for r in rows} == {"SENT"} and all(r["lease_until"] is None for r in rows)
    assert sorted(m["to"] for m in sandbox.messages()) == sorted(d["token"] for d in devs)
    assert db.current_engine().current_transaction.get() is None


async def test_a_transaction_cut_mid_way_gives_its_connection_back(api, settings):
    """Its connection goes back to the pool (to be replaced), and the task is out of it."""
    if not settings.is_postgres:
        pytest.skip("terminates its own PostgreSQL backend")
    engine = db.current_engine()
    size = engine.pool.get_max_size()
    for _ in range(size + 1):  # each leaked slot is the pool's for ever: one more than it holds
        with pytest.raises(senders.DATABASE_GONE):
            async with db.transaction():
                await db.fetch("SELECT pg_terminate_backend(pg_backend_pid())")
        assert engine.current_transaction.get() is None
    async with db.transaction():
        assert await db.fetch("SELECT 1 AS one") == [{"one": 1}]


@pytest.mark.parametrize("failure", ["outage", "bug"])
async def test_a_send_task_the_database_failed_is_a_warning_and_leaves_its_rows_to_the_sweep(
    api, sandbox, runtime, monkeypatch, caplog, failure
):
    """The task as a worker runs it (api/delivery/jobs.py): while PostgreSQL restarted, taskiq
    logged each failed task as an error with its traceback. Nothing is lost (the rows stay PENDING,
    unleased, for the sweep), so it is a warning now; a bug still raises."""
    from api.delivery import jobs, pipeline

    devs, ids = await _pending_batch(api, runtime, monkeypatch, devices=2)
    error = ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)") if failure == "outage" \
        else RuntimeError("a bug")

    async def away(*args, **kwargs):
        raise error

    monkeypatch.setattr(ledger, "claimable", away)
    task = jobs._sender_task(pipeline.TRANSPORTS["EXPO"])
    with caplog.at_level(logging.WARNING, logger="booper.jobs"):
        if failure == "outage":
            await task(ids)
            assert "send_expo of 2 deliveries not done, database or queue unavailable" in caplog.text
        else:
            with pytest.raises(RuntimeError):
                await task(ids)
    rows = await delivery_rows_by_id(ids)
    assert {(r["status"], r["lease_until"]) for r in rows} == {("PENDING", None)}
    assert sandbox.messages() == []

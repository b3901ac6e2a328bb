"""A send whose outcome could not be recorded because the database went away is recorded when
the database returns (within the lease), and is not sent again."""

from __future__ import annotations

import time

import pytest

from api.delivery import ledger, senders
from api.delivery.pipeline import send_task
from api.notifications.tables import Delivery
from tests.delivery.helpers import delivery_rows, eventually, send, setup_channel
from tests.delivery.test_sweep import LostTasks


class DatabaseOutage:
    """ledger.apply for these deliveries fails the way asyncpg does while PostgreSQL is stopped,
    `times` times (None: for ever); everything else records normally."""

    def __init__(self, monkeypatch, ids: set[int], times: int | None) -> None:
        self.ids, self.times, self.refused = ids, times, 0
        self._apply = ledger.apply
        monkeypatch.setattr(ledger, "apply", self.apply)

    async def apply(self, runtime, changes, **kw):
        if {c.delivery["id"] for c in changes} & self.ids and (self.times is None or self.refused < self.times):
            self.refused += 1
            raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")
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


async def test_outcomes_are_recorded_when_the_database_returns_not_sent_again(api, sandbox, runtime, monkeypatch):
    devs, ids = await _pending_batch(api, runtime, monkeypatch, devices=3)
    outage = DatabaseOutage(monkeypatch, set(ids), times=3)

    await senders.send_expo(runtime, ids)

    assert outage.refused == 3  # the record was refused three times, then written
    rows = {r["id"]: r for r in await delivery_rows_by_id(ids)}
    assert {r["status"] for r in rows.values()} == {"SENT"}
    assert all(r["lease_until"] is None and r["attempts"] == 1 for r in rows.values())
    # Each device got it once; another run of the same task finds nothing to send.
    await senders.send_expo(runtime, ids)
    assert sorted(m["to"] for m in sandbox.messages()) == sorted(d["token"] for d in devs)


async def test_an_outage_longer_than_the_lease_gives_up_before_the_lease_ends(api, sandbox, runtime, monkeypatch):
    devs, ids = await _pending_batch(api, runtime, monkeypatch, devices=2)
    DatabaseOutage(monkeypatch, set(ids), times=None)
    monkeypatch.setattr(runtime.settings, "delivery_lease", 2.0)

    started = time.monotonic()
    with pytest.raises(ConnectionRefusedError):
        await senders.send_expo(runtime, ids)
    # Gave up inside the lease (2 s less its margin), so no second sender can have the rows yet:
    # they stay leased and count as in flight, as at a crash.
    assert time.monotonic() - started < 2.0
    rows = await delivery_rows_by_id(ids)
    assert {r["status"] for r in rows} == {"PENDING"} and all(r["lease_until"] is not None for r in rows)
    assert len(sandbox.messages()) == len(devs)


async def delivery_rows_by_id(ids: list[int]) -> list[dict]:
    return await Delivery.select().where(Delivery.id.is_in(ids))

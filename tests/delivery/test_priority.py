"""BUSINESS apps' deliveries stay on the priority queue through retries and sweeps, not only
on their first kick (DESIGN.md, limits: "a priority queue for its deliveries")."""

from __future__ import annotations

from api.delivery.pipeline import FAN_OUT, send_task
from tests.delivery.helpers import eventually_sync, send, setup_channel, wait_deliveries
from tests.delivery.test_sweep import LostTasks
from tests.support import factories as f


class RecordedKicks:
    def __init__(self, monkeypatch, runtime) -> None:
        self.kicks: list[tuple[str, bool]] = []
        self._kick = runtime.queue.kick
        monkeypatch.setattr(runtime.queue, "kick", self.kick)

    async def kick(self, task_name, *args, priority=False, **kwargs):
        self.kicks.append((task_name, priority))
        return await self._kick(task_name, *args, priority=priority, **kwargs)

    def sends(self) -> list[bool]:
        return [p for name, p in self.kicks if name == send_task("EXPO")]


async def test_a_retry_keeps_the_priority_queue(api, sandbox, runtime, monkeypatch):
    recorded = RecordedKicks(monkeypatch, runtime)
    app = await f.make_app(api, plan="BUSINESS")
    app, channel, _ = await setup_channel(api, expo=2, app=app)
    sandbox.faults({"provider": "expo", "fault": "http_500", "times": 1, "retry_after": 0})
    sent = await send(api, app, channelId=channel["id"], title="vip retry")
    rows = await wait_deliveries(sent["id"], "DELIVERED", count=2)
    assert [r["attempts"] for r in rows] == [2, 2]
    assert len(recorded.sends()) >= 2  # the first kick and the retry's
    assert all(recorded.sends()), recorded.kicks


async def test_a_free_apps_retry_stays_on_the_main_queue(api, sandbox, runtime, monkeypatch):
    recorded = RecordedKicks(monkeypatch, runtime)
    app, channel, _ = await setup_channel(api, expo=1)
    sandbox.faults({"provider": "expo", "fault": "http_500", "times": 1, "retry_after": 0})
    sent = await send(api, app, channelId=channel["id"], title="free retry")
    await wait_deliveries(sent["id"], "DELIVERED", count=1)
    assert len(recorded.sends()) >= 2
    assert not any(recorded.sends()), recorded.kicks


async def test_a_sweep_keeps_the_priority_queue(api, sandbox, runtime, monkeypatch):
    app = await f.make_app(api, plan="BUSINESS")
    app, channel, _ = await setup_channel(api, expo=2, app=app)
    lost = LostTasks(monkeypatch, runtime, send_task("EXPO"))
    sent = await send(api, app, channelId=channel["id"], title="vip lost")
    await eventually_sync(lambda: lost.lost, what="the send task to be kicked (and lost)")
    await wait_deliveries(sent["id"], "PENDING", count=2)
    lost.restore()
    monkeypatch.undo()
    recorded = RecordedKicks(monkeypatch, runtime)
    await wait_deliveries(sent["id"], "DELIVERED", count=2, within=5)
    assert recorded.sends() and all(recorded.sends()), recorded.kicks


async def test_a_swept_fan_out_keeps_the_priority_queue(api, sandbox, runtime, monkeypatch):
    app = await f.make_app(api, plan="BUSINESS")
    app, channel, _ = await setup_channel(api, expo=1, app=app)
    lost = LostTasks(monkeypatch, runtime, FAN_OUT)
    sent = await send(api, app, channelId=channel["id"], title="vip fan-out lost")
    assert lost.lost
    monkeypatch.undo()
    recorded = RecordedKicks(monkeypatch, runtime)
    await wait_deliveries(sent["id"], "DELIVERED", count=1, within=5)
    assert (FAN_OUT, True) in recorded.kicks, recorded.kicks

"""The delivery pipeline's doorbells: every task name, and how fan-outs, sends and webhooks are kicked.

Callers never name a task or pick a queue themselves: they say what needs doing (these
notifications need a fan-out, these deliveries need sending) and this module finds the task
and the queue. A BUSINESS app's work goes to the priority queue on every kick, the first one
from the fan-out as well as a retry's or the sweep's: a kick that does not know the app
(a retry timer, the sweep) asks the database, one statement for the whole batch.

A transport is registered once, in TRANSPORTS: its platform, its send task and the domain
function the task runs (api/delivery/jobs.py registers it on the brokers).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from api.delivery import ledger
from api.notifications.tables import Delivery
from api.runtime import Runtime

FAN_OUT = "booper.fan_out"
SEND_WEBHOOKS = "booper.send_webhooks"
SWEEP = "booper.sweep"
CHECK_RECEIPTS = "booper.check_receipts"
RETENTION = "booper.retention"
TRIM_STREAMS = "booper.trim-streams"
WEBHOOKS_DUE = "booper.webhooks_due"
PUSH_REPLACEMENTS = "booper.push_replacements"  # api/engagement/replacements.py
# Ids per send task: the task's DB work (claim, load, one ledger UPDATE, status refresh) is
# amortised over this many deliveries; each sender splits it into requests as its provider wants.
SEND_BATCH = 1000
FAN_OUTS_PER_TASK = 8  # = fanout.fan_out_many's concurrency


@dataclass(frozen=True)
class Transport:
    platform: str  # Device.platform
    task_name: str
    sender: str  # "module:function" taking (runtime, delivery_ids); imported when registered


TRANSPORTS: dict[str, Transport] = {
    t.platform: t
    for t in (
        Transport("EXPO", "booper.send_expo", "api.delivery.senders:send_expo"),
        Transport("WEB", "booper.send_webpush", "api.delivery.senders:send_webpush"),
        Transport("FCM", "booper.send_fcm", "api.delivery.native_senders:send_fcm"),
        Transport("APNS", "booper.send_apns", "api.delivery.native_senders:send_apns"),
    )
}


def send_task(platform: str) -> str:
    return TRANSPORTS[platform].task_name


async def kick_fan_outs(runtime: Runtime, notification_ids: list[int], *, priority: bool | None = False) -> None:
    """A few ids per task: they run concurrently (fanout.fan_out_many), so a task stays as short
    as one fan-out run and never outlives the queue's redelivery timeout. `priority=None`: look
    the apps' plans up (the sweep does not know them)."""
    urgent = await _priority_notifications(notification_ids) if priority is None else None
    for to_priority, ids in _by_queue(notification_ids, urgent, priority):
        for start in range(0, len(ids), FAN_OUTS_PER_TASK):
            chunk = ids[start : start + FAN_OUTS_PER_TASK]
            await runtime.queue.kick(FAN_OUT, chunk if len(chunk) > 1 else chunk[0], priority=to_priority)


async def kick_sends(runtime: Runtime, deliveries: list[dict], *, priority: bool | None = None) -> None:
    """One send task per platform per SEND_BATCH deliveries (`{"id", "platform"}` rows).
    `priority=None`: the BUSINESS apps' deliveries among them are looked up."""
    urgent = await _priority_deliveries([d["id"] for d in deliveries]) if priority is None else None
    for platform, transport in TRANSPORTS.items():
        of_platform = [d["id"] for d in deliveries if d["platform"] == platform]
        for to_priority, ids in _by_queue(of_platform, urgent, priority):
            for start in range(0, len(ids), SEND_BATCH):
                await runtime.queue.kick(transport.task_name, ids[start : start + SEND_BATCH], priority=to_priority)


def _by_queue(ids: list[int], urgent: set[int] | None, priority: bool | None) -> list[tuple[bool, list[int]]]:
    """(to the priority queue?, ids): all to one queue when the caller knows, else split by `urgent`."""
    if urgent is None:
        return [(bool(priority), ids)] if ids else []
    parts = [(True, [i for i in ids if i in urgent]), (False, [i for i in ids if i not in urgent])]
    return [(q, part) for q, part in parts if part]


async def kick_webhooks(runtime: Runtime, webhook_ids: Iterable[int]) -> None:
    for webhook_id in webhook_ids:
        await runtime.queue.kick(SEND_WEBHOOKS, webhook_id)


async def _priority_deliveries(ids: list[int]) -> set[int]:
    if not ids:
        return set()
    where, args = ledger.ids_in("d.id", ids)
    rows = await Delivery.raw(
        "SELECT d.id AS id FROM deliveries d JOIN notifications n ON n.id = d.notification"
        f" JOIN apps a ON a.id = n.app WHERE {where} AND a.plan = 'BUSINESS'", *args,
    )
    return {r["id"] for r in rows}


async def _priority_notifications(ids: list[int]) -> set[int]:
    if not ids:
        return set()
    where, args = ledger.ids_in("n.id", ids)
    rows = await Delivery.raw(
        f"SELECT n.id AS id FROM notifications n JOIN apps a ON a.id = n.app WHERE {where}"
        " AND a.plan = 'BUSINESS'", *args,
    )
    return {r["id"] for r in rows}

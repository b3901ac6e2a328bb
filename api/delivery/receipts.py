"""Expo receipts: the second phase of an Expo send.

A ticket only says Expo accepted the message; whether Apple or Google took it is
in the receipt, available some minutes later (Expo suggests waiting about 15) and
kept for 24 hours. This periodic job asks for receipts of tickets older than
BOOPER_RECEIPT_DELAY in batches of 1,000, settles each delivery as DELIVERED or
FAILED, deactivates devices Expo calls dead, and fails tickets whose receipt
never came within 24 hours ("ReceiptExpired").
"""

from __future__ import annotations

import datetime as dt
import logging

from api import metrics
from api.apps import credentials
from api.delivery import ledger
from api.delivery.providers import providers
from api.notifications.tables import Delivery, Notification
from api.providers.failures import Outcome, PermanentDeviceFailure, ProviderFailure
from api.runtime import Runtime

log = logging.getLogger("booper.receipts")
BATCH = 1000


async def check_receipts(runtime: Runtime) -> int:
    """Returns how many deliveries it settled."""
    settings = runtime.settings
    now = dt.datetime.now(dt.UTC)
    cutoff = now - dt.timedelta(seconds=settings.receipt_delay)
    expired_before = now - dt.timedelta(seconds=settings.receipt_expiry)
    settled, after_id = 0, 0
    while True:
        rows = await Delivery.select(
            Delivery.id, Delivery.notification, Delivery.device, Delivery.attempts, Delivery.platform,
            Delivery.ticket_id, Delivery.sent_at, Delivery.created_at,
        ).where(
            (Delivery.status == "SENT") & (Delivery.platform == "EXPO")
            & (Delivery.sent_at <= cutoff) & (Delivery.id > after_id)
        ).order_by(Delivery.id).limit(BATCH)
        if not rows:
            return settled
        after_id = rows[-1]["id"]
        try:
            receipts = await _receipts(runtime, rows)
        except ProviderFailure as failure:
            log.warning("receipts unavailable (%s); next run tries again", failure.code)
            return settled
        changes, dead = [], []
        for r in rows:
            outcome = receipts.get(r["ticket_id"])
            if outcome is None:
                if r["sent_at"] < expired_before:
                    changes.append(ledger.Change(r, "FAILED", error="ReceiptExpired"))
                continue  # not ready yet: Expo has no receipt for it so far
            if outcome.ok:
                changes.append(ledger.Change(r, "DELIVERED"))
            else:
                changes.append(ledger.Change(r, "FAILED", error=outcome.failure.code))
                if isinstance(outcome.failure, PermanentDeviceFailure):
                    dead.append((r["device"], outcome.failure.code))
        await ledger.apply(runtime, changes, retry_at=None, dead_devices=dead, count_attempt=False)
        settled += len(changes)
        for c in changes:
            metrics.RECEIPTS_CHECKED.labels(outcome=c.status).inc()


async def _receipts(runtime: Runtime, rows: list[dict]) -> dict[str, Outcome]:
    """Asked with the access token each ticket was sent with: the app's own, else the server's."""
    apps = {r["id"]: r["app"] for r in await Notification.select(Notification.id, Notification.app).where(
        Notification.id.is_in(list({r["notification"] for r in rows})))}
    creds = await credentials.credentials_of_apps({a for a in apps.values() if a}, runtime.secret_key)
    by_token: dict[str | None, list[str]] = {}
    for r in rows:
        app_creds = creds.get(apps.get(r["notification"]))
        by_token.setdefault(app_creds.expo_access_token if app_creds else None, []).append(r["ticket_id"])
    receipts: dict[str, Outcome] = {}
    for token, ticket_ids in by_token.items():
        receipts.update(await providers(runtime).expo.get_receipts(ticket_ids, access_token=token))
    return receipts


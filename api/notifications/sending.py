"""sendNotification: validate -> rate limits and quota -> one transaction -> live event -> fan-out."""

from __future__ import annotations

import asyncio
import datetime as dt
from functools import partial

from api.apps import plans
from api.apps.tables import App
from api.coalesce import Coalescer
from api.delivery.pipeline import kick_fan_outs
from api.engagement import presentation
from api.errors import Forbidden
from api.metrics import NOTIFICATIONS_ACCEPTED
from api.notifications import events, service
from api.notifications.draft import Draft
from api.notifications.rows import NotificationRow
from api.ratelimit import address_bucket
from api.runtime import Runtime


async def send(
    runtime: Runtime,
    draft: Draft,
    *,
    app_id: int | None,
    client_ip: str,
    plan: str | None = None,
) -> tuple[NotificationRow, bool]:
    """Returns (notification row, created). `app_id` is set when an app (key/owner) sends; a
    direct send (persons or devices) always has one."""
    now = dt.datetime.now(dt.UTC)
    draft.validate(now)
    draft.check_size()

    settings = runtime.settings
    limiter = runtime.limiter
    quota = None
    channel = draft.channel
    owner_app = app_id if app_id is not None else channel["app"]  # type: ignore[index]
    # Critical (past quiet hours, digests and caps) is the app's word alone: its own sends to a
    # critical channel are, an anonymous send to a public one never is.
    if app_id is None:
        draft.critical = False
    elif channel is not None and channel.get("critical"):
        draft.critical = True
    if app_id is None and presentation.breaks_through(draft.presentation):
        raise Forbidden("only the channel's app may send time-sensitive or critical interruptions")
    if app_id is not None:
        await limiter.hit(settings.app_rate, "app", str(app_id), message="this app sends too fast")
        if plan is None:  # API keys bring their app's plan (cached with the key)
            plan = (await App.select(App.plan).where(App.id == app_id).first() or {"plan": "FREE"})["plan"]
        quota = plans.limits_for(plan, settings).daily_quota
    else:
        await limiter.hit(settings.anonymous_ip_rate, "anon-ip", address_bucket(client_ip),
                          message="too many anonymous notifications from this address")
        await limiter.hit(settings.anonymous_channel_rate, "anon-channel", str(channel["id"]),  # type: ignore[index]
                          message="too many anonymous notifications to this channel")

    # Anonymous sends to an app's public channel still belong to that app's ledger (the owner
    # sees them), but take none of its quota.
    scope = f"app:{app_id}" if app_id is not None else f"channel:{channel['id']}"  # type: ignore[index]
    row, created = await service.accept(draft, owner_app, scope, app_id, quota, now)
    if created:
        NOTIFICATIONS_ACCEPTED.labels(scheduled=str(row["status"] == "SCHEDULED").lower()).inc()
    if created and row["status"] == "QUEUED":
        await dispatch(runtime, row)
    return row, created


async def dispatch(runtime: Runtime, row: NotificationRow) -> None:
    """After commit: the live event and the fan-out task, at once. Concurrent sends share the two
    Redis round trips (api/coalesce.py); each returns once its own are done."""
    dispatcher = runtime.extras.get("dispatcher")
    if dispatcher is None:
        dispatcher = runtime.extras["dispatcher"] = Coalescer(partial(_dispatch_batch, runtime))
    await dispatcher.submit(row)


async def _dispatch_batch(runtime: Runtime, rows: list[NotificationRow]) -> None:
    # Side by side, not one after the other: a direct send's live event first looks up its
    # persons' devices as they are now (thousands for a send to 1,000 persons), which must not
    # hold its fan-out back; and a failing live publish must not leave the fan-out to the sweep.
    # Live clients take a delivery event that comes before its notification's in their stride
    # (the dashboard reads the card's numbers from the API).
    await asyncio.gather(
        events.publish_notifications(runtime.live, rows), kick_fan_outs(runtime, [row["id"] for row in rows])
    )

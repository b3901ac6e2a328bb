"""sendNotification: validate -> rate limits and quota -> one transaction -> live event -> fan-out."""

from __future__ import annotations

import datetime as dt
import re
from functools import partial
from typing import Any

from api.apps import plans
from api.apps.tables import App
from api.coalesce import Coalescer
from api.delivery import payload
from api.delivery.pipeline import kick_fan_outs
from api.errors import BadUserInput, PayloadTooLarge
from api.metrics import NOTIFICATIONS_ACCEPTED
from api.notifications import events, service
from api.runtime import Runtime

MAX_TTL = 28 * 24 * 3600  # the longest any push service keeps a message
MAX_SCHEDULE_AHEAD = dt.timedelta(days=365)
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")


def validate_fields(
    title: str | None,
    body: str | None,
    data: Any,
    priority: str,
    collapse_key: str | None,
    ttl: int | None,
    send_at: dt.datetime | None,
    idempotency_key: str | None,
    now: dt.datetime,
) -> None:
    if title is None and body is None and data is None:
        raise BadUserInput("a notification needs a title, a body or data")
    if title is not None and len(title) > 1024:
        raise BadUserInput("title may have at most 1024 characters")
    if data is not None and not isinstance(data, dict):
        raise BadUserInput("data must be a JSON object")
    if collapse_key is not None and not 1 <= len(collapse_key) <= 64:
        raise BadUserInput("collapseKey must have 1-64 characters")
    if ttl is not None and not 0 <= ttl <= MAX_TTL:
        raise BadUserInput(f"ttl must be between 0 and {MAX_TTL} seconds")
    if send_at is not None and send_at - now > MAX_SCHEDULE_AHEAD:
        raise BadUserInput("sendAt may be at most a year ahead")
    if idempotency_key is not None and not IDEMPOTENCY_KEY.match(idempotency_key):
        raise BadUserInput("idempotencyKey must be 1-128 printable ASCII characters")


async def send(
    runtime: Runtime,
    *,
    channel: dict,
    app_id: int | None,
    fields: dict[str, Any],
    client_ip: str,
    plan: str | None = None,
    critical: bool = False,
    presentation: dict | None = None,
) -> tuple[dict, bool]:
    """Returns (notification row, created). `app_id` is set when an app (key/owner) sends;
    `presentation` is validated already (api/engagement/presentation.py)."""
    now = dt.datetime.now(dt.UTC)
    validate_fields(now=now, **fields)
    probe = {
        "title": fields["title"],
        "body": fields["body"],
        "data": fields["data"],
        "priority": fields["priority"],
        "ttl": fields["ttl"],
        "collapse_key": fields["collapse_key"],
        "presentation": presentation,
    }
    if reason := payload.oversize(probe, channel["name"]):
        raise PayloadTooLarge(reason)

    settings = runtime.settings
    limiter = runtime.limiter
    quota = None
    owner_app = app_id if app_id is not None else channel["app"]
    if app_id is not None:
        await limiter.hit(settings.app_rate, "app", str(app_id), message="this app sends too fast")
        if plan is None:  # API keys bring their app's plan (cached with the key)
            plan = (await App.select(App.plan).where(App.id == app_id).first() or {"plan": "FREE"})["plan"]
        quota = plans.limits_for(plan, settings).daily_quota
    else:
        await limiter.hit(settings.anonymous_ip_rate, "anon-ip", client_ip,
                          message="too many anonymous notifications from this address")
        await limiter.hit(settings.anonymous_channel_rate, "anon-channel", str(channel["id"]),
                          message="too many anonymous notifications to this channel")

    scope = f"app:{app_id}" if app_id is not None else f"channel:{channel['id']}"
    new = service.NewNotification(
        # Anonymous sends to an app's public channel still belong to that app's
        # ledger (the owner sees them), but take none of its quota.
        app_id=owner_app,
        channel_id=channel["id"],
        title=fields["title"],
        body=fields["body"],
        data=fields["data"],
        priority=fields["priority"],
        collapse_key=fields["collapse_key"],
        ttl=fields["ttl"],
        send_at=fields["send_at"],
        idempotency_scope=scope,
        idempotency_key=fields["idempotency_key"],
        critical=critical,
        presentation=presentation,
    )
    row, created = await service.accept(new, app_id, quota, now)
    if created:
        NOTIFICATIONS_ACCEPTED.labels(scheduled=str(row["status"] == "SCHEDULED").lower()).inc()
    if created and row["status"] == "QUEUED":
        await dispatch(runtime, row)
    return row, created


async def dispatch(runtime: Runtime, row: dict) -> None:
    """After commit: live subscribers first (milliseconds), then the fan-out task. Concurrent
    sends share the two Redis round trips (api/coalesce.py); each returns once its own are done."""
    dispatcher = runtime.extras.get("dispatcher")
    if dispatcher is None:
        dispatcher = runtime.extras["dispatcher"] = Coalescer(partial(_dispatch_batch, runtime))
    await dispatcher.submit(row)


async def _dispatch_batch(runtime: Runtime, rows: list[dict]) -> None:
    await events.publish_notifications(runtime.live, rows)
    await kick_fan_outs(runtime, [row["id"] for row in rows])

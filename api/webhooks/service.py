"""Webhooks: set a URL, emit events into the ledger, deliver them signed, in order, with retries.

Signature (like Stripe's): `Booper-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<raw body>" with the webhook's secret>`. Receivers recompute it and reject old
timestamps to stop replays.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import logging
import secrets
import socket
import time
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson

from api import secrets_at_rest
from api.backoff import backoff
from api.delivery import pipeline
from api.errors import BadUserInput, NotFound
from api.runtime import Runtime
from api.settings import Settings
from api.webhooks.tables import Webhook, WebhookEvent

log = logging.getLogger("booper.webhooks")
EVENT_TYPES = (
    "notification.sent", "notification.failed", "device.registered", "device.unregistered",
    "delivery.delivered", "delivery.failed", "notification.clicked", "person.erased",
)
LEASE = dt.timedelta(seconds=60)
# Webhook secrets are sealed at rest (api.secrets_at_rest) under this purpose, bound to their app.
SECRET_PURPOSE = "webhook-secret"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def validate_url(url: str, settings: Settings) -> str:
    url = url.strip()
    parts = urlsplit(url)
    allowed_schemes = ("https", "http") if settings.webhook_allow_private else ("https",)
    if parts.scheme not in allowed_schemes or not parts.hostname or len(url) > 2048:
        raise BadUserInput("a webhook URL must be an absolute https URL of at most 2048 characters")
    if parts.username or parts.password:
        raise BadUserInput("a webhook URL must not carry credentials")
    if not settings.webhook_allow_private and _is_private_literal(parts.hostname):
        raise BadUserInput("a webhook URL must not point at a private, loopback or link-local address")
    return url


def _is_private_literal(host: str) -> bool:
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost")
    return not ip.is_global


class Refused(Exception):
    """The webhook's address may not be contacted (or could not be found); the message says why."""


async def pinned_target(url: str, settings: Settings) -> tuple[str, dict[str, str], dict]:
    """Resolve the URL's host once, check the address against the SSRF rules, and return the URL
    to POST (the checked IP in place of the name), the Host header and httpx extensions (the name
    as TLS server name, so the certificate is still verified for it).

    Connecting to the address that was checked closes the DNS rebinding window: were httpx to
    resolve the name again, a hostile DNS server could answer a public address to the check and
    an internal one to the connection."""
    import asyncio

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = [ipaddress.ip_address(host)]
        is_name = False
    except ValueError:
        is_name = True
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise Refused("network: could not resolve the host") from exc
        addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses:
        raise Refused("network: could not resolve the host")
    if not settings.webhook_allow_private and any(not a.is_global for a in addresses):
        raise Refused("refused: resolves to a private address")
    address = addresses[0]
    netloc = f"[{address}]" if address.version == 6 else str(address)
    if parts.port is not None:
        netloc += f":{parts.port}"
    target = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    host_header = f"[{host}]" if ":" in host else host  # an IPv6 literal keeps its brackets
    if parts.port is not None:
        host_header += f":{parts.port}"
    # TLS server names are names: an IP literal URL is verified against the IP, as before.
    extensions = {"sni_hostname": host} if parts.scheme == "https" and is_name else {}
    return target, {"host": host_header}, extensions


def seal_secret(app_id: int, secret: str, secret_key: str) -> str:
    return secrets_at_rest.seal(secret, secret_key, purpose=SECRET_PURPOSE, context=f"app:{app_id}")


def webhook_secret(row: dict, secret_key: str) -> str:
    """The signing secret of a webhook row, opened for signing (or for its owner to read).
    SealError when it does not open (the secret key changed). A value that is not sealed was
    written by a release before sealing, during a rolling upgrade; the migration seals those."""
    value = row["secret"]
    if not secrets_at_rest.is_sealed(value):
        return value
    return secrets_at_rest.unseal(value, secret_key, purpose=SECRET_PURPOSE, context=f"app:{row['app']}")


async def set_webhook(app_id: int, url: str, settings: Settings) -> dict:
    url = validate_url(url, settings)
    secret = seal_secret(app_id, "whsec_" + secrets.token_urlsafe(32), settings.resolved_secret_key)
    rows = await Webhook.insert(Webhook(app=app_id, url=url, secret=secret)).on_conflict(
        target=Webhook.app, action="DO UPDATE", values=[(Webhook.url, url), (Webhook.secret, secret)]
    ).returning(*Webhook.all_columns())
    return rows[0]


async def rotate_secret(app_id: int, settings: Settings) -> dict:
    """A new signing secret for the app's webhook (the URL stays); the old one stops at once."""
    secret = seal_secret(app_id, "whsec_" + secrets.token_urlsafe(32), settings.resolved_secret_key)
    rows = await Webhook.update({Webhook.secret: secret}).where(Webhook.app == app_id).returning(
        *Webhook.all_columns()
    )
    if not rows:
        raise NotFound("this app has no webhook")
    return rows[0]


async def redeliver(event_id: int, owner_id: int) -> tuple[dict, int]:
    """A FAILED event of one of the owner's webhooks goes back in line, with fresh attempts.
    (the event's row, its webhook's id)."""
    hook_ids = [r["id"] for r in await Webhook.select(Webhook.id).where(Webhook.app.owner == owner_id)]
    if not hook_ids:
        raise NotFound("webhook event not found")
    rows = await WebhookEvent.update(
        {WebhookEvent.status: "PENDING", WebhookEvent.attempts: 0,
         WebhookEvent.next_attempt_at: dt.datetime.now(dt.UTC)}
    ).where(
        (WebhookEvent.id == event_id) & (WebhookEvent.status == "FAILED")
        & WebhookEvent.webhook.is_in(hook_ids)
    ).returning(*WebhookEvent.all_columns())
    if rows:
        return rows[0], rows[0]["webhook"]
    owned = await WebhookEvent.select(WebhookEvent.status).where(
        (WebhookEvent.id == event_id) & WebhookEvent.webhook.is_in(hook_ids)
    ).first()
    if owned is None:
        raise NotFound("webhook event not found")
    raise BadUserInput(f"only a FAILED event can be redelivered (this one is {owned['status']})")


async def get_webhook(app_id: int) -> dict | None:
    return await Webhook.select().where(Webhook.app == app_id).first()


async def delete_webhook(app_id: int) -> bool:
    return bool(await Webhook.delete().where(Webhook.app == app_id).returning(Webhook.id))


async def recent_events(webhook_id: int, first: int) -> list[dict]:
    return await WebhookEvent.select().where(WebhookEvent.webhook == webhook_id).order_by(
        WebhookEvent.id, ascending=False
    ).limit(first)


async def record(events: list[tuple[int | None, str, dict]]) -> set[int]:
    """Insert (app id, type, data) events for the apps that have a webhook; returns those
    webhooks' ids. Raises like any write, so a caller can make it part of its own transaction
    (the ledger does: events then commit with, and in the order of, what they describe)."""
    return await record_for({a for a, _, _ in events if a is not None}, lambda _apps: events)


async def record_for(
    app_ids: Iterable[int], make: Callable[[set[int]], list[tuple[int | None, str, dict]]]
) -> set[int]:
    """As record, with the events made (`make(the apps that have a webhook)`) only once it is known
    which apps have one: a send batch of a thousand deliveries of an app without a webhook builds
    no event at all (their payloads had been a tenth of the send task's time)."""
    app_ids = list(set(app_ids))
    if not app_ids:
        return set()
    hooks = {r["app"]: r["id"] for r in await Webhook.select(Webhook.id, Webhook.app).where(
        Webhook.app.is_in(app_ids)
    )}
    if not hooks:
        return set()
    now = dt.datetime.now(dt.UTC)
    rows = [
        WebhookEvent(webhook=hooks[a], event_type=t, payload=orjson.dumps(d).decode(),
                     next_attempt_at=now, created_at=now)
        for a, t, d in make(set(hooks)) if a in hooks
    ]
    for start in range(0, len(rows), 500):
        await WebhookEvent.insert(*rows[start : start + 500])
    return set(hooks.values())


async def kick(runtime: Runtime, webhook_ids: set[int]) -> None:
    """After commit: wake the senders of these webhooks."""
    await pipeline.kick_webhooks(runtime, webhook_ids)


async def emit(runtime: Runtime, events: list[tuple[int | None, str, dict]]) -> int:
    """record + kick outside any transaction. Never raises into the caller: delivery must not
    depend on webhooks."""
    try:
        hooks = await record(events)
        await kick(runtime, hooks)
        return len(hooks)
    except Exception:  # noqa: BLE001 - see docstring
        log.exception("could not record webhook events")
        return 0


async def deliver(runtime: Runtime, webhook_id: int, client: httpx.AsyncClient | None = None) -> int:
    """Send this webhook's due events oldest first; stop at the first that fails (order matters
    more than throughput: notification.sent must not overtake what came before it)."""
    settings = runtime.settings
    hook = await Webhook.select().where(Webhook.id == webhook_id).first()
    if hook is None:
        return 0
    sent = 0
    own = client is None
    client = client or httpx.AsyncClient(timeout=settings.provider_timeout, follow_redirects=False)
    try:
        while True:
            head = await WebhookEvent.select().where(
                (WebhookEvent.webhook == webhook_id) & (WebhookEvent.status == "PENDING")
            ).order_by(WebhookEvent.id).first()
            now = dt.datetime.now(dt.UTC)
            if head is None or head["next_attempt_at"] > now:
                return sent
            claimed = await WebhookEvent.update({WebhookEvent.next_attempt_at: now + LEASE}).where(
                (WebhookEvent.id == head["id"]) & (WebhookEvent.status == "PENDING")
                & (WebhookEvent.next_attempt_at <= now)
            ).returning(WebhookEvent.id)
            if not claimed:
                return sent  # another sender holds it
            error = await _post(client, hook, head, runtime)
            if error is None:
                await WebhookEvent.update({
                    WebhookEvent.status: "DELIVERED", WebhookEvent.delivered_at: dt.datetime.now(dt.UTC),
                    WebhookEvent.attempts: head["attempts"] + 1, WebhookEvent.last_error: None,
                }).where(WebhookEvent.id == head["id"])
                sent += 1
                continue
            attempts = head["attempts"] + 1
            final = attempts >= settings.webhook_max_attempts
            delay = backoff(attempts, settings.retry_base_delay, settings.retry_max_delay, None)
            await WebhookEvent.update({
                WebhookEvent.status: "FAILED" if final else "PENDING",
                WebhookEvent.attempts: attempts,
                WebhookEvent.last_error: error[:128],
                WebhookEvent.next_attempt_at: now + dt.timedelta(seconds=delay),
            }).where(WebhookEvent.id == head["id"])
            if not final:
                _retry_later(runtime, webhook_id, delay)
                return sent
    finally:
        if own:
            await client.aclose()


async def _post(client: httpx.AsyncClient, hook: dict, event: dict, runtime: Runtime) -> str | None:
    settings = runtime.settings
    try:
        target, pinned_headers, extensions = await pinned_target(hook["url"], settings)
    except Refused as exc:
        return str(exc)
    try:
        secret = webhook_secret(hook, runtime.secret_key)
    except secrets_at_rest.SealError:
        return "secret unreadable (the server's secret key changed): set the webhook again"
    payload = event["payload"]
    data = orjson.loads(payload) if isinstance(payload, str | bytes) else payload
    body = orjson.dumps({
        "id": f"evt_{event['id']}",
        "type": event["event_type"],
        "createdAt": event["created_at"].isoformat(),
        "data": data,
    })
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": "Booper-Webhooks/1",
        "booper-event-id": f"evt_{event['id']}",
        "booper-event-type": event["event_type"],
        "booper-signature": sign(secret, timestamp, body),
        **pinned_headers,
    }
    try:
        response = await client.post(target, content=body, headers=headers, extensions=extensions)
    except httpx.HTTPError as exc:
        return f"network: {type(exc).__name__}"
    if 300 <= response.status_code < 400:
        # Never followed (the URL was checked, its Location was not): the receiver must answer 2xx.
        return f"redirect refused: http_{response.status_code}"
    return None if 200 <= response.status_code < 300 else f"http_{response.status_code}"


_timers: set = set()


def _retry_later(runtime: Runtime, webhook_id: int, delay: float) -> None:
    """Best effort in-process; the periodic sweep (deliver_due) covers a lost timer."""
    import asyncio

    async def later() -> None:
        await asyncio.sleep(delay)
        await pipeline.kick_webhooks(runtime, [webhook_id])

    task = asyncio.get_running_loop().create_task(later())
    _timers.add(task)
    task.add_done_callback(_timers.discard)


async def deliver_due(runtime: Runtime) -> int:
    """Kick the sender of every webhook with a due PENDING event (lost tasks, retries)."""
    now = dt.datetime.now(dt.UTC)
    rows = await WebhookEvent.select(WebhookEvent.webhook).where(
        (WebhookEvent.status == "PENDING") & (WebhookEvent.next_attempt_at <= now)
    ).distinct().limit(500)
    await pipeline.kick_webhooks(runtime, [r["webhook"] for r in rows])
    return len(rows)

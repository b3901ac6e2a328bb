"""Create and redeem access codes.

A code is BOOPER_ACCESS_CODE_DIGITS digits (8 by default), so it is guessable in principle;
what makes it safe is a bound that holds whatever the attacker holds: an app has at most
L live codes, and at most F_app + F_unscoped wrong guesses a day can ever be compared with
them (a failure budget per app for redeems that name it, one shared budget for those that
do not), so a code of that app is guessed with probability <= (F_app + F_unscoped) * L / 10^d
a day (README "Access codes: the guessing bound"). It also expires, works once, and redeeming
is throttled per device and per client address, which stops one client from spending the
budgets alone.
"""

from __future__ import annotations

import datetime as dt
import logging

from api import allowances, db
from api.access_codes.tables import AccessCode, AccessCodeChannel
from api.channels.tables import Channel, ChannelSubscription
from api.devices.tables import DeviceAccessGrant
from api.errors import BadUserInput, Conflict, QuotaExceeded, RateLimited
from api.live.guard import access_changed
from api.people import service as people
from api.ratelimit import RateLimiter
from api.security import hash_access_code, new_access_code
from api.settings import Settings
from api.webhooks import events as webhook_events

log = logging.getLogger(__name__)
MAX_LIFETIME = dt.timedelta(hours=24)
MAX_CHANNELS = 50
WRONG_CODE = "this access code is wrong, expired or already used"
# Whatever length was issued redeems (6-digit codes from before BOOPER_ACCESS_CODE_DIGITS).
CODE_LENGTHS = range(6, 13)
# Digits of a code its owner sees in the list later (accessCodes): they tell codes apart, and
# only the owner, who can create codes anyway, sees them; the guessing bound is unchanged.
HINT_DIGITS = 2
BUDGET_SPENT = "too many wrong access codes for {}; wait before trying again"


def guessing_bound(settings: Settings) -> float:
    """The most likely an attacker is to redeem some code of one given app per guess window:
    every wrong guess that can meet that app's codes comes out of its budget or the unscoped
    one, and each meets at most L live codes out of 10^d equally likely ones."""
    failures = settings.access_code_app_failures + settings.access_code_unscoped_failures
    return failures * settings.access_code_live_cap / 10**settings.access_code_digits


def well_formed(code: str) -> bool:
    # ASCII digits only: "１２３４５６" and "²" are str.isdigit() too.
    return len(code) in CODE_LENGTHS and code.isascii() and code.isdigit()


def expiry(expires_at: dt.datetime | None, default_ttl: int, now: dt.datetime) -> dt.datetime:
    if expires_at is None:
        return now + dt.timedelta(seconds=default_ttl)
    if expires_at <= now:
        raise BadUserInput("expiresAt must be in the future")
    if expires_at - now > MAX_LIFETIME:
        raise BadUserInput("expiresAt may be at most 24 hours from now")
    return expires_at


async def _hold_live_slot(app_id: int, cap: int, now: dt.datetime) -> None:
    """RATE_LIMITED when the app already holds `cap` live codes. Inside the create transaction:
    SQLite's write lock (BEGIN IMMEDIATE) or PostgreSQL's lock on the app's row makes the count
    and the insert one step, so concurrent creates cannot pass the cap together."""
    await db.lock_row("apps", app_id)
    live = (AccessCode.app == app_id) & AccessCode.redeemed_at.is_null() & (AccessCode.expires_at > now)
    if await AccessCode.count().where(live) < cap:
        return
    soonest = (await AccessCode.select(AccessCode.expires_at).where(live)
               .order_by(AccessCode.expires_at).first())["expires_at"]
    wait = (soonest.replace(tzinfo=soonest.tzinfo or dt.UTC) - now).total_seconds()
    raise RateLimited(
        f"this app holds {cap} live access codes, the most it may (BOOPER_ACCESS_CODE_LIVE_CAP):"
        " wait until one is redeemed or expires",
        retry_after=wait,
    )


async def create(
    app_id: int, channel_ids: list[int], identifier: str | None, expires_at: dt.datetime, secret: str,
    *, digits: int = 8, live_cap: int = 50,
) -> tuple[str, dict]:
    now = dt.datetime.now(dt.UTC)
    async with db.transaction():
        await _hold_live_slot(app_id, live_cap, now)
        for _ in range(20):
            code = new_access_code(digits)
            code_hash = hash_access_code(code, secret)
            # Two live codes must never share digits, or redeeming one would pick either.
            clash = await AccessCode.exists().where(
                (AccessCode.code_hash == code_hash)
                & AccessCode.redeemed_at.is_null()
                & (AccessCode.expires_at > now)
            )
            if not clash:
                break
        else:
            raise Conflict("could not allocate an unused access code; try again")
        row = (
            await AccessCode.insert(
                AccessCode(
                    app=app_id, code_hash=code_hash, code_hint=code[-HINT_DIGITS:], identifier=identifier,
                    expires_at=expires_at,
                )
            ).returning(*AccessCode.all_columns())
        )[0]
        await AccessCodeChannel.insert(
            *[AccessCodeChannel(access_code=row["id"], channel=cid) for cid in channel_ids]
        )
    return code, row


async def attempt(
    limiter: RateLimiter, settings: Settings, code: str, device: dict, secret: str, app_id: int | None
) -> list[dict]:
    """One guarded redeem. The budget that bounds guessing (the app's with appId, the unscoped
    one without) is checked before the code is compared; a unit is reserved for the comparison
    and handed back if the code was right, so only wrong guesses spend it, and concurrent
    guesses cannot overshoot it. An exhausted budget refuses every attempt, right or wrong."""
    if not well_formed(code):
        raise BadUserInput(WRONG_CODE)  # compares nothing, so it spends nothing
    scope = ("app", str(app_id)) if app_id is not None else ("unscoped",)
    failures = settings.access_code_app_failures if app_id is not None else settings.access_code_unscoped_failures
    what = "this app" if app_id is not None else "codes redeemed without appId"
    reservation = await limiter.reserve(
        failures, settings.access_code_guess_window, "redeem-failures", *scope,
        message=BUDGET_SPENT.format(what),
    )
    try:
        channels = await redeem(code, device, secret, app_id=app_id,
                                most_subscriptions=settings.max_subscriptions_per_device)
    except QuotaExceeded:  # the code was right: no guess was spent
        await _refund(limiter, reservation)
        raise
    await _refund(limiter, reservation)
    return channels


async def _refund(limiter: RateLimiter, reservation) -> None:
    try:
        await limiter.refund(reservation)
    except Exception:  # the outcome stands: a lost refund only leaves one unit spent
        log.warning("could not refund an access-code budget unit", exc_info=True)


async def redeem(
    code: str, device: dict, secret: str, *, app_id: int | None = None, most_subscriptions: int | None = None
) -> list[dict]:
    """Grant the device the code's channels and subscribe it; one transaction, single use. With
    `app_id`, only that app's codes are candidates. A device without room for the code's
    channels (`most_subscriptions`) is refused (QUOTA_EXCEEDED) and the code stays unused."""
    if not well_formed(code):
        raise BadUserInput(WRONG_CODE)
    now = dt.datetime.now(dt.UTC)
    match = (
        (AccessCode.code_hash == hash_access_code(code, secret))
        & AccessCode.redeemed_at.is_null()
        & (AccessCode.expires_at > now)
    )
    if app_id is not None:
        match &= AccessCode.app == app_id
    if device.get("app") is not None:  # an FCM or APNs device joins only its own app's channels
        match &= AccessCode.app == device["app"]
    async with db.transaction():
        # The conditional update is the single-use guarantee: of two concurrent
        # redeems, exactly one sees redeemed_at IS NULL.
        claimed = await AccessCode.update(
            {AccessCode.redeemed_at: now, AccessCode.redeemed_by: device["id"]}
        ).where(match).returning(AccessCode.id, AccessCode.app, AccessCode.identifier)
        if not claimed:
            raise BadUserInput(WRONG_CODE)
        access_code = claimed[0]
        channels = await Channel.select().where(
            Channel.id.is_in(
                AccessCodeChannel.select(AccessCodeChannel.channel).where(
                    AccessCodeChannel.access_code == access_code["id"]
                )
            )
        ).order_by(Channel.id)
        if most_subscriptions is not None:
            await allowances.hold_subscriptions(device["id"], [c["id"] for c in channels], most_subscriptions)
        identifier = access_code["identifier"]
        added = 0
        for channel in channels:
            await DeviceAccessGrant.insert(
                DeviceAccessGrant(device=device["id"], app=access_code["app"], channel=channel["id"])
            ).on_conflict(target=(DeviceAccessGrant.device, DeviceAccessGrant.channel), action="DO NOTHING")
            added += len(
                await ChannelSubscription.insert(
                    ChannelSubscription(channel=channel["id"], device=device["id"])
                ).on_conflict(action="DO NOTHING").returning(ChannelSubscription.id)
            )
        if identifier is not None:  # the device now belongs to that person of the app
            await people.link(device["id"], access_code["app"], identifier)
    if added:
        await access_changed(f"device:{device['id']}", granted=True)  # its open streams listen to them
    await webhook_events.device_joined(device["id"], access_code["app"], added)
    return channels

"""Preferences: muted channels and quiet hours, kept per person of an app, or per device when the
device belongs to no person of that app. Read for a whole send batch in one query (for_owners)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import orjson
from strawberry import UNSET

from api import db
from api.channels.tables import Channel, ChannelSubscription
from api.delivery import ledger
from api.devices.tables import DeviceAccessGrant
from api.engagement import quiet_hours
from api.engagement.tables import Preference
from api.errors import BadUserInput, NotFound
from api.people.tables import PersonDevice

MAX_MUTED = 200


@dataclass(frozen=True)
class Owner:
    """Whose preferences: a person of the app, or a device of no person of it."""

    app: int
    person: int | None = None
    device: int | None = None


@dataclass
class Settings:
    muted: list[int] = field(default_factory=list)
    quiet: quiet_hours.QuietHours | None = None


async def owner_for_device(app_id: int, device_id: int) -> Owner:
    """A device speaks for its person of the app, else for itself; NOT_FOUND when it has nothing
    to do with the app (no person of it, no channel of it)."""
    link = await PersonDevice.select(PersonDevice.person).where(
        (PersonDevice.device == device_id) & (PersonDevice.app == app_id)
    ).first()
    if link is not None:
        return Owner(app_id, person=link["person"])
    subscribed = await ChannelSubscription.exists().where(
        (ChannelSubscription.device == device_id)
        & ChannelSubscription.channel.is_in(Channel.select(Channel.id).where(Channel.app == app_id))
    )
    if not subscribed:
        raise NotFound("app not found")
    return Owner(app_id, device=device_id)


def _where(owner: Owner):
    column, value = (Preference.person, owner.person) if owner.person is not None else (Preference.device, owner.device)
    return (Preference.app == owner.app) & (column == value)


def _settings(row: dict | None) -> Settings:
    if row is None:
        return Settings()
    muted = row["muted_channels"]
    muted = orjson.loads(muted) if isinstance(muted, str | bytes) else list(muted or [])
    quiet = (
        quiet_hours.QuietHours(row["quiet_start"], row["quiet_end"], row["time_zone"])
        if row["quiet_start"] and row["quiet_end"] and row["time_zone"] else None
    )
    return Settings(muted, quiet)


async def get(owner: Owner) -> Settings:
    return _settings(await Preference.select().where(_where(owner)).first())


async def of_persons(keys: list[tuple[int, int]]) -> list[Settings]:
    """(app, person) -> their settings, in one query (Person.preferences of a page of persons)."""
    found = await for_owners({app for app, _ in keys}, {person for _, person in keys}, ())
    return [applying(found, app, person, 0) or Settings() for app, person in keys]


async def set_preferences(owner: Owner, *, muted_channel_ids: object = UNSET, quiet: object = UNSET,
                          seen_by_device: int | None = None) -> Settings:
    """UNSET: unchanged; null muted list: none muted; null quiet hours: none. Validated first.
    `seen_by_device`: a device sets them, and may name only channels it can see."""
    current = await get(owner)
    if muted_channel_ids is not UNSET:
        named = await _channels_of_app(
            owner.app, list(muted_channel_ids or []), seen_by_device  # type: ignore[call-overload]
        )
        if seen_by_device is not None:
            # A device replaces only what it can see: private channels the app muted for its person
            # that this device was never given stay muted (it cannot know they exist).
            unseen = set(current.muted) - await visible_to_device(seen_by_device, current.muted)
            named = sorted(set(named) | unseen)
        current.muted = named
    if quiet is not UNSET:
        current.quiet = None if quiet is None else quiet_hours.validate(
            quiet.start, quiet.end, quiet.time_zone  # type: ignore[attr-defined]
        )
    values = {
        Preference.muted_channels: orjson.dumps(current.muted).decode(),
        Preference.quiet_start: current.quiet.start if current.quiet else None,
        Preference.quiet_end: current.quiet.end if current.quiet else None,
        Preference.time_zone: current.quiet.time_zone if current.quiet else None,
        Preference.updated_at: dt.datetime.now(dt.UTC),
    }
    async with db.transaction():
        if not await Preference.update(values).where(_where(owner)).returning(Preference.id):
            await Preference.insert(Preference(app=owner.app, person=owner.person, device=owner.device,
                                               **{c._meta.name: v for c, v in values.items()}))
    return current


async def visible_to_device(device_id: int, channel_ids: list[int]) -> set[int]:
    """Of these channels, the public ones and the private ones granted to the device."""
    if not channel_ids:
        return set()
    granted = DeviceAccessGrant.select(DeviceAccessGrant.channel).where(DeviceAccessGrant.device == device_id)
    rows = await Channel.select(Channel.id).where(
        Channel.id.is_in(list(channel_ids)) & ((Channel.visibility == "PUBLIC") | Channel.id.is_in(granted))
    )
    return {r["id"] for r in rows}


async def _channels_of_app(app_id: int, ids: list[int], seen_by_device: int | None) -> list[int]:
    """The ids, each a channel of the app (and for a device, public or granted to it: a private
    channel it was not given does not exist for it); NOT_FOUND otherwise."""
    if len(ids) > MAX_MUTED:
        raise BadUserInput(f"at most {MAX_MUTED} muted channels")
    ids = sorted(set(ids))
    if not ids:
        return []
    query = Channel.select(Channel.id).where((Channel.app == app_id) & Channel.id.is_in(ids))
    if seen_by_device is not None:
        granted = DeviceAccessGrant.select(DeviceAccessGrant.channel).where(DeviceAccessGrant.device == seen_by_device)
        query = query.where((Channel.visibility == "PUBLIC") | Channel.id.is_in(granted))
    found = {r["id"] for r in await query}
    if found != set(ids):
        raise NotFound("channel not found: mutedChannelIds must be channels of the app")
    return ids


# (app, "person" or "device") -> {their id: the settings that apply}
Found = dict[tuple[int, str], dict[int, Settings]]


async def for_owners(apps: Iterable[int], persons: Iterable[int], devices: Iterable[int]) -> Found:
    """The settings of these persons and devices (of no person) of these apps, in one query:
    `applying` looks one up."""
    apps, persons, devices = sorted(apps), sorted(persons), sorted(devices)
    if not apps or not (persons or devices):
        return {}
    found: Found = {}
    settings = ("muted_channels", "quiet_start", "quiet_end", "time_zone")
    if db.is_postgres(db.current_engine()):
        # Raw SQL with array parameters, straight through asyncpg: Piccolo's is_in cleans and binds
        # each of a batch's thousand ids one by one. Each owner list joined as a set (IN a
        # subquery: a hash or an index probe per id), not `= ANY(array)`: on a table the planner
        # reads whole, that compares every row with each of a thousand ids (20 ms a batch with
        # 20,000 preferences, against 1 ms). One row per distinct settings with its owners'
        # ids (an app's recipients mostly share a few: its default quiet hours), so that the
        # batch's thousand owners cost one C call (dict.fromkeys), not a row each to read.
        columns = ("SELECT app, person, device, CAST(muted_channels AS TEXT) AS muted_channels, quiet_start,"
                   " quiet_end, time_zone FROM preferences")
        rows = await db.fetch_records(
            f"SELECT app, {', '.join(settings)}, array_agg(person) FILTER (WHERE person IS NOT NULL) AS persons,"
            " array_agg(device) FILTER (WHERE person IS NULL AND device IS NOT NULL) AS devices FROM ("
            f"{columns} WHERE app = ANY($1::bigint[]) AND person IN (SELECT unnest($2::bigint[]))"
            f" UNION ALL {columns} WHERE app = ANY($1::bigint[]) AND device IN (SELECT unnest($3::bigint[]))"
            f") AS owners GROUP BY app, {', '.join(settings)}",
            apps, persons, devices,
        )
        for row in rows:
            parsed = _settings(row)
            if row["persons"]:
                found.setdefault((row["app"], "person"), {}).update(dict.fromkeys(row["persons"], parsed))
            if row["devices"]:
                found.setdefault((row["app"], "device"), {}).update(dict.fromkeys(row["devices"], parsed))
        return found
    owners, args = [], []
    for column, ids in (("person", persons), ("device", devices)):
        if ids:
            where, more = ledger.ids_in(column, ids)
            owners.append(where)
            args += more
    app_where, app_args = ledger.ids_in("app", apps)
    rows = await Preference.raw(
        f"SELECT app, person, device, {', '.join(settings)} FROM preferences"
        f" WHERE {app_where} AND ({' OR '.join(owners)})",
        *app_args, *args,
    )
    shared: dict[tuple, Settings] = {}  # parsed once per distinct settings
    for row in rows:
        same = tuple(str(row[c]) for c in settings)
        if same not in shared:
            shared[same] = _settings(row)
        kind, owner = ("person", row["person"]) if row["person"] is not None else ("device", row["device"])
        if owner is not None:
            found.setdefault((row["app"], kind), {})[owner] = shared[same]
    return found


def applying(found: Found, app: int, person: int | None, device: int) -> Settings | None:
    """The settings of the person (when the delivery has one), else of the device."""
    owners = found.get((app, "person") if person is not None else (app, "device"))
    return owners.get(person if person is not None else device) if owners else None


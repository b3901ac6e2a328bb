"""Persons and their devices: link, unlink, look up, page. Set-based: one statement per call,
whatever the number of persons or devices."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import TypedDict

from piccolo.columns.combination import WhereRaw

from api import db
from api.channels.tables import Channel, ChannelSubscription
from api.delivery.ledger import ids_in
from api.devices.tables import Device, DeviceAccessGrant, DeviceSupplier
from api.errors import BadUserInput, NotFound
from api.people.tables import MAX_IDENTIFIER, Person, PersonDevice


class PersonRow(TypedDict):
    id: int
    app: int
    identifier: str
    created_at: dt.datetime


def identifier(value: str, what: str = "identifier") -> str:
    """An app's identifier for one of its users: 1-128 characters, no control characters, kept
    exactly as given (it is the app's key, compared byte for byte and signed as is)."""
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_IDENTIFIER:
        raise BadUserInput(f"{what} must have 1-{MAX_IDENTIFIER} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise BadUserInput(f"{what} must not contain control characters")
    return value


async def ensure_persons(app_id: int, identifiers: Sequence[str]) -> dict[str, int]:
    """identifier -> person id, creating the persons that do not exist yet (one insert)."""
    wanted = list(dict.fromkeys(identifiers))
    if not wanted:
        return {}
    now = dt.datetime.now(dt.UTC)
    await Person.insert(*[Person(app=app_id, identifier=i, created_at=now) for i in wanted]).on_conflict(
        action="DO NOTHING"
    )
    return await person_ids(app_id, wanted)


async def person_ids(app_id: int, identifiers: Sequence[str]) -> dict[str, int]:
    """identifier -> person id, for the persons of the app that exist."""
    if not identifiers:
        return {}
    rows = await Person.select(Person.id, Person.identifier).where(
        (Person.app == app_id) & Person.identifier.is_in(list(identifiers))
    )
    return {r["identifier"]: r["id"] for r in rows}


async def find(app_id: int, ident: str) -> PersonRow | None:
    return await Person.select().where((Person.app == app_id) & (Person.identifier == ident)).first()


async def require(app_id: int, ident: str) -> PersonRow:
    row = await find(app_id, identifier(ident))
    if row is None:
        raise NotFound("person not found")
    return row


async def link(device_id: int, app_id: int, ident: str | None) -> str | None:
    """The device now belongs to this person of the app (replacing any other person of the app);
    None unlinks it from the app's person. Returns the identifier."""
    if ident is None:
        await PersonDevice.delete().where((PersonDevice.device == device_id) & (PersonDevice.app == app_id))
        return None
    # Two idempotent statements, in the caller's transaction if it has one (redeeming a code).
    person_id = (await ensure_persons(app_id, [ident]))[ident]
    await PersonDevice.insert(
        PersonDevice(person=person_id, device=device_id, app=app_id, created_at=dt.datetime.now(dt.UTC))
    ).on_conflict(
        target=(PersonDevice.device, PersonDevice.app),
        action="DO UPDATE",
        values=[PersonDevice.person, PersonDevice.created_at],
    )
    return ident


async def identifiers_of(keys: Sequence[tuple[int, int | None]]) -> list[str | None]:
    """(device id, app id) -> the identifier of the app's person the device belongs to."""
    device_ids = list({d for d, _ in keys})
    rows = await PersonDevice.raw(
        "SELECT pd.device AS device, pd.app AS app, p.identifier AS identifier FROM person_devices pd"
        " JOIN persons p ON p.id = pd.person WHERE pd.device IN (" + ", ".join("{}" for _ in device_ids) + ")",
        *device_ids,
    ) if device_ids else []
    found = {(r["device"], r["app"]): r["identifier"] for r in rows}
    return [found.get(k) for k in keys]


async def live_devices(notification_ids: Sequence[int], online: Collection[int] | None = None) -> dict[int, list[int]]:
    """notification id -> the devices a direct send's live event goes to, decided as it is
    published (not when a stream opened): the devices it names and those its persons have now,
    active and of the sending app's transport, as the fan-out chooses them. A device linked
    since its stream opened gets it; one unlinked, erased with its person or deactivated does not.
    `online`: only these devices can receive it (api/live/presence.py), so only they are looked
    up: none online, no query (None: every device)."""
    ids = list(dict.fromkeys(notification_ids))
    if not ids or (online is not None and not online):
        return {}
    marks = ", ".join("{}" for _ in ids)
    usable = "d.active = TRUE AND (d.app IS NULL OR d.app = n.app)"
    among, among_args = "", []
    if online is not None:
        where, among_args = ids_in("d.id", sorted(online))  # one array parameter on PostgreSQL
        among = f" AND {where}"
    rows = await PersonDevice.raw(
        "SELECT np.notification AS notification, pd.device AS device FROM notification_persons np"
        " JOIN person_devices pd ON pd.person = np.person JOIN devices d ON d.id = pd.device"
        f" JOIN notifications n ON n.id = np.notification WHERE np.notification IN ({marks}) AND {usable}{among}"
        " UNION SELECT nd.notification AS notification, nd.device AS device FROM notification_devices nd"
        " JOIN devices d ON d.id = nd.device JOIN notifications n ON n.id = nd.notification"
        f" WHERE nd.notification IN ({marks}) AND {usable}{among}",
        *ids, *among_args, *ids, *among_args,
    )
    found: dict[int, list[int]] = {}
    for r in rows:
        found.setdefault(r["notification"], []).append(r["device"])
    return found


async def latest_links(person_ids: Sequence[int], most: int, columns: str = "d.*") -> list[dict]:
    """Each person's latest `most` device links, oldest first: rows with person_id, newest (1 for
    the latest link) and `columns` of person_devices pd / devices d. One statement, however many
    devices a person has."""
    ids = sorted(set(person_ids))
    if not ids:
        return []
    return await PersonDevice.raw(
        "SELECT * FROM (SELECT pd.person AS person_id, pd.id AS link_id, " + columns + ", ROW_NUMBER() OVER"
        " (PARTITION BY pd.person ORDER BY pd.id DESC) AS newest FROM person_devices pd"
        " JOIN devices d ON d.id = pd.device WHERE pd.person IN (" + ", ".join("{}" for _ in ids) + "))"
        " AS linked WHERE newest <= {} ORDER BY link_id",
        *ids, most,
    )


async def devices_of_persons(keys: Sequence[tuple[int, int]]) -> list[list[dict]]:
    """(person id, n) -> the person's latest n device links (rows of `devices`), oldest first."""
    if not keys:
        return []
    rows = await latest_links([p for p, _ in keys], max(n for _, n in keys))
    by_person: dict[int, list[tuple[int, dict]]] = {}
    for r in db.parse_timestamps(rows, "created_at", "last_seen_at", "verification_expires_at"):
        person, newest = r.pop("person_id"), r.pop("newest")
        r.pop("link_id")
        by_person.setdefault(person, []).append((newest, r))
    return [[r for newest, r in by_person.get(p, []) if newest <= n] for p, n in keys]


async def devices_of_person(person_id: int, limit: int) -> list[dict]:
    """The person's devices (rows of `devices`), newest link first, at most `limit`."""
    rows = await PersonDevice.raw(
        "SELECT d.* FROM person_devices pd JOIN devices d ON d.id = pd.device WHERE pd.person = {}"
        " ORDER BY pd.id DESC LIMIT {}", person_id, limit,
    )
    return db.parse_timestamps(rows, "created_at", "last_seen_at", "verification_expires_at")


async def page(app_id: int, search: str | None, first: int, after_id: int | None) -> list[PersonRow]:
    """Persons of the app, newest first; `search` matches the start of the identifier exactly
    (character for character: no wildcards, the same on both engines)."""
    query = Person.select().where(Person.app == app_id)
    if search:
        query = query.where(WhereRaw("SUBSTR(identifier, 1, {}) = {}", len(search), search))
    if after_id is not None:
        query = query.where(Person.id < after_id)
    return await query.order_by(Person.id, ascending=False).limit(first + 1)


async def devices_of_app(app_id: int, device_ids: Sequence[int]) -> set[int]:
    """Of these devices, the ones the app knows: it registered the token, the token is of the app
    (FCM, APNs), the device follows one of its channels or holds one of its grants, or belongs to
    one of its persons. Any other device is another app's business, and looks to this app as if it
    did not exist."""
    ids = list(set(device_ids))
    if not ids:
        return set()
    known: set[int] = set()
    for query in (
        Device.select(Device.id.as_alias("device")).where((Device.app == app_id) & Device.id.is_in(ids)),
        DeviceSupplier.select(DeviceSupplier.device).where(
            (DeviceSupplier.app == app_id) & DeviceSupplier.device.is_in(ids)
        ),
        DeviceAccessGrant.select(DeviceAccessGrant.device).where(
            (DeviceAccessGrant.app == app_id) & DeviceAccessGrant.device.is_in(ids)
        ),
        PersonDevice.select(PersonDevice.device).where((PersonDevice.app == app_id) & PersonDevice.device.is_in(ids)),
        ChannelSubscription.select(ChannelSubscription.device).where(
            ChannelSubscription.device.is_in(ids)
            & ChannelSubscription.channel.is_in(Channel.select(Channel.id).where(Channel.app == app_id))
        ),
    ):
        known |= {r["device"] for r in await query}
        if len(known) == len(ids):
            break
    if not known:
        return known
    # A token of another app's Firebase project or bundle (FCM, APNs) is sent to with that app's
    # credentials: however this app came to know the device, it is never this app's to send to or
    # to link; and an unregistered device is nobody's until it registers again.
    return {
        r["id"] for r in await Device.select(Device.id).where(
            Device.id.is_in(list(known))
            & (Device.app.is_null() | (Device.app == app_id))
            & ((Device.inactive_reason.is_null()) | (Device.inactive_reason != "unregistered"))
        )
    }


async def device_of_app(app_id: int, device_id: int) -> dict:
    row = await Device.select().where(Device.id == device_id).first()
    if row is None or not await devices_of_app(app_id, [device_id]):
        raise NotFound("device not found")
    return row

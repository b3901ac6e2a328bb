"""Direct sends: the persons or devices a notification names, and which notifications a device
sees in its inbox (its channels' and those sent to it or to its persons)."""

from __future__ import annotations

from collections.abc import Sequence

from api import db
from api.channels.tables import ChannelSubscription
from api.notifications.tables import Notification
from api.people import service as people
from api.people.tables import NotificationDevice, NotificationPerson, PersonDevice


async def record(
    notification_id: int, app_id: int | None, identifiers: Sequence[str], device_ids: Sequence[int]
) -> None:
    """Inside the send's transaction: one insert for the persons (created if new: an app may
    notify a user before any of their devices is linked) and one for the devices."""
    if identifiers and app_id is not None:
        if db.is_postgres(db.current_engine()):
            await _record_persons_pg(notification_id, app_id, list(dict.fromkeys(identifiers)))
            return
        persons = await people.ensure_persons(app_id, identifiers)
        await NotificationPerson.insert(
            *[NotificationPerson(notification=notification_id, person=p) for p in persons.values()]
        ).on_conflict(action="DO NOTHING")
    if device_ids:
        await NotificationDevice.insert(
            *[NotificationDevice(notification=notification_id, device=d) for d in dict.fromkeys(device_ids)]
        ).on_conflict(action="DO NOTHING")


async def _record_persons_pg(notification_id: int, app_id: int, identifiers: list[str]) -> None:
    """PostgreSQL: the same in two set-based statements with one array parameter each, no row
    objects built in Python (a send to 1,000 persons). Two, not one: the second sees the persons a
    concurrent send created, which the first waited for on the unique index."""
    await NotificationPerson.raw(
        "INSERT INTO persons (app, identifier, created_at) SELECT {}, i, now()"
        " FROM unnest(CAST({} AS TEXT[])) AS i ON CONFLICT DO NOTHING",
        app_id, identifiers,
    )
    await NotificationPerson.raw(
        "INSERT INTO notification_persons (notification, person) SELECT {}, id FROM persons"
        " WHERE app = {} AND identifier = ANY(CAST({} AS TEXT[])) ON CONFLICT DO NOTHING",
        notification_id, app_id, identifiers,
    )


async def identifiers_of(notification_ids: Sequence[int]) -> list[list[str] | None]:
    """notification id -> the identifiers a direct send went to (None: not a send to persons)."""
    rows = await NotificationPerson.raw(
        "SELECT np.notification AS notification, p.identifier AS identifier FROM notification_persons np"
        " JOIN persons p ON p.id = np.person WHERE np.notification IN ("
        + ", ".join("{}" for _ in notification_ids) + ") ORDER BY p.identifier",
        *notification_ids,
    ) if notification_ids else []
    found: dict[int, list[str]] = {}
    for r in rows:
        found.setdefault(r["notification"], []).append(r["identifier"])
    return [found.get(n) for n in notification_ids]


def visible_to_device(device_id: int, channel_ids: Sequence[int] | None):
    """The condition on notifications a device sees: its channels' (all of them, or these),
    and direct sends to it or to a person it belongs to."""
    if channel_ids is None:
        channel_ids = ChannelSubscription.select(ChannelSubscription.channel).where(
            ChannelSubscription.device == device_id
        )
    to_device = NotificationDevice.select(NotificationDevice.notification).where(
        NotificationDevice.device == device_id
    )
    to_person = NotificationPerson.select(NotificationPerson.notification).where(
        NotificationPerson.person.is_in(
            PersonDevice.select(PersonDevice.person).where(PersonDevice.device == device_id)
        )
    )
    condition = Notification.id.is_in(to_device) | Notification.id.is_in(to_person)
    if isinstance(channel_ids, list | tuple) and not channel_ids:
        return condition
    return Notification.channel.is_in(channel_ids) | condition

"""Who a notification goes to, as one SQL source of (device, platform, person, key, key2) rows:
a channel's active subscribers, or a direct send's persons' active devices, or its active
devices. `person` is the device's person in the notification's app (null: none). The fan-out pages
by (key, key2) (keyset: `(key, key2) > (:after, :after_device)`, ordered, at most `:limit` rows): the
device id (key2 0) for channel and device sends; for a send to persons (person, device), so that
a page reads only its own persons' links (paging persons' devices by device id read and sorted
every device of the send's persons again for each page) and stays within `:limit` rows however
many devices one person has.

The sources are written once with named parameters (:after, :limit, ...) and compiled for
asyncpg ($1, one per name) or for Piccolo's raw queries ({} per occurrence)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from api import db
from api.people.tables import NotificationPerson

# A device whose token belongs to one app's Firebase project or bundle (FCM, APNs) is sent to with
# that app's credentials: another app's direct send never reaches it (it would carry that app's
# content under this app's name). Checked where the targets are named too; this is the last word.
_OWN_TRANSPORT = "(d.app IS NULL OR d.app = :app)"
_PERSON_OF = "LEFT JOIN person_devices pd ON pd.device = d.id AND pd.app = :app"
CHANNEL = (
    "SELECT s.device AS device, d.platform AS platform, pd.person AS person, s.device AS key, 0 AS key2"
    " FROM channel_subscriptions s"
    f" JOIN devices d ON d.id = s.device {_PERSON_OF}"
    " WHERE s.channel = :channel AND s.device > :after AND d.active = TRUE ORDER BY s.device LIMIT :limit"
)
PERSONS = (
    "SELECT pd.device AS device, d.platform AS platform, np.person AS person, np.person AS key,"
    " pd.device AS key2 FROM notification_persons np JOIN person_devices pd ON pd.person = np.person"
    " JOIN devices d ON d.id = pd.device WHERE np.notification = :notification AND np.person >= :after"
    " AND (np.person > :after OR pd.device > :after_device) AND d.active = TRUE"
    f" AND {_OWN_TRANSPORT} ORDER BY np.person, pd.device LIMIT :limit"
)
# PostgreSQL: each person's devices in order beside the persons in order, so that a page stops
# reading once it has its rows (an incremental sort); as a plain join the planner sorted all the
# remaining persons' devices for each page (1,000 persons of 100 devices: 6.9 against 1.5 ms a
# page, 50,900 links read against 1,001). SQLite has no LATERAL; its nested loop stops anyway.
PERSONS_PG = (
    "SELECT x.device AS device, x.platform AS platform, np.person AS person, np.person AS key,"
    " x.device AS key2 FROM notification_persons np CROSS JOIN LATERAL (SELECT pd.device AS device,"
    " d.platform AS platform FROM person_devices pd JOIN devices d ON d.id = pd.device"
    " WHERE pd.person = np.person AND (np.person > :after OR pd.device > :after_device) AND d.active = TRUE"
    f" AND {_OWN_TRANSPORT} ORDER BY pd.device) x"
    " WHERE np.notification = :notification AND np.person >= :after ORDER BY np.person, x.device LIMIT :limit"
)
DEVICES = (
    "SELECT nd.device AS device, d.platform AS platform, pd.person AS person, nd.device AS key, 0 AS key2"
    " FROM notification_devices nd"
    f" JOIN devices d ON d.id = nd.device {_PERSON_OF}"
    " WHERE nd.notification = :notification AND nd.device > :after AND d.active = TRUE"
    f" AND {_OWN_TRANSPORT} ORDER BY nd.device LIMIT :limit"
)
_NAME = re.compile(r":([a-z_]+)\b")


@dataclass(frozen=True)
class Source:
    sql: str
    fixed: dict[str, Any] = field(default_factory=dict)

    def compile(self, sql: str, style: Literal["pg", "piccolo"], **values: Any) -> tuple[str, list]:
        values = {**self.fixed, **values}
        args: list = []
        numbered: dict[str, int] = {}

        def placeholder(match: re.Match) -> str:
            name = match.group(1)
            if style == "pg":
                if name not in numbered:
                    args.append(values[name])
                    numbered[name] = len(args)
                return f"${numbered[name]}"
            args.append(values[name])
            return "{}"

        # "::" casts do not occur in these statements; CAST(... AS ...) is used instead.
        return _NAME.sub(placeholder, sql), args


async def source_of(n: dict) -> Source:
    fixed = {"app": n["app"], "notification": n["id"]}
    if n["channel"] is not None:
        return Source(CHANNEL, {**fixed, "channel": n["channel"]})
    if await NotificationPerson.exists().where(NotificationPerson.notification == n["id"]):
        return Source(PERSONS_PG if db.is_postgres(db.current_engine()) else PERSONS, fixed)
    return Source(DEVICES, fixed)

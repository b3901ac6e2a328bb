"""Piccolo app config: every table, migrations in the top-level migrations/ folder."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from api.access_codes.tables import AccessCode, AccessCodeChannel
from api.apps.tables import ApiKey, App, AppCredentials
from api.channels.tables import Channel, ChannelSubscription
from api.devices.tables import Device, DeviceAccessGrant, DeviceSupplier
from api.engagement.tables import Preference
from api.notifications.tables import DailyUsage, Delivery, DeliveryAttempt, Notification, ReadMark
from api.people.tables import NotificationDevice, NotificationPerson, Person, PersonDevice, PersonRead
from api.users.tables import User
from api.webhooks.tables import Webhook, WebhookEvent

TABLES = [
    User,
    App,
    ApiKey,
    AppCredentials,
    Device,
    Channel,
    ChannelSubscription,
    DeviceAccessGrant,
    DeviceSupplier,
    AccessCode,
    AccessCodeChannel,
    Notification,
    Delivery,
    DeliveryAttempt,
    ReadMark,
    DailyUsage,
    Webhook,
    WebhookEvent,
    Person,
    PersonDevice,
    PersonRead,
    NotificationPerson,
    NotificationDevice,
    Preference,
]

APP_CONFIG = AppConfig(
    app_name="booper",
    migrations_folder_path=str(Path(__file__).resolve().parent.parent / "migrations"),
    table_classes=TABLES,
    migration_dependencies=[],
    commands=[],
)

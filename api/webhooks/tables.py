"""A webhook per app, and its events: the same ledger discipline as push deliveries."""

from piccolo.columns import JSON, BigSerial, ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

from api.apps.tables import App


class Webhook(Table, tablename="webhooks"):
    id = BigSerial(primary_key=True)
    app = ForeignKey(App, on_delete=OnDelete.cascade, unique=True, index=True)
    url = Varchar(length=2048)
    secret = Varchar(length=128)  # symmetric: needed to sign, shown to the app's admins
    created_at = Timestamptz()


class WebhookEvent(Table, tablename="webhook_events"):
    id = BigSerial(primary_key=True)
    webhook = ForeignKey(Webhook, on_delete=OnDelete.cascade)
    event_type = Varchar(length=32)
    payload = JSON()
    status = Varchar(length=10, default="PENDING")
    attempts = Integer(default=0)
    last_error = Varchar(length=128, null=True, default=None)
    next_attempt_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    delivered_at = Timestamptz(null=True, default=None)

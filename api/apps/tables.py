"""Apps (owned by a user, on a plan) and their API keys (only a hash is stored)."""

from piccolo.columns import BigSerial, Boolean, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table

from api.users.tables import User


class App(Table, tablename="apps"):
    id = BigSerial(primary_key=True)
    owner = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=64)
    plan = Varchar(length=16, default="FREE")
    created_at = Timestamptz()
    # Signs persons for devices (api/people/identity.py); sealed at rest (api/secrets_at_rest.py).
    identity_secret = Varchar(length=256, null=True, default=None)
    # Pushes per person per hour (api/engagement/caps.py); null: the BOOPER_PERSON_HOURLY_CAP default.
    person_hourly_cap = Integer(null=True, default=None)


class ApiKey(Table, tablename="api_keys"):
    id = BigSerial(primary_key=True)
    app = ForeignKey(App, on_delete=OnDelete.cascade, index=True)
    prefix = Varchar(length=16)
    secret_hash = Varchar(length=64, unique=True, index=True)
    created_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class AppCredentials(Table, tablename="app_credentials"):
    """An app's own provider credentials (api/apps/credentials.py). Secrets are sealed at rest
    (api/secrets_at_rest.py); the plain columns are what App.providers may show."""

    id = BigSerial(primary_key=True)
    app = ForeignKey(App, on_delete=OnDelete.cascade, unique=True, index=True)
    expo_access_token = Text(null=True, default=None)  # sealed
    fcm_service_account = Text(null=True, default=None)  # sealed: the key file's JSON
    fcm_project_id = Varchar(length=128, null=True, default=None)
    apns_private_key = Text(null=True, default=None)  # sealed: the .p8 PEM
    apns_key_id = Varchar(length=16, null=True, default=None)
    apns_team_id = Varchar(length=16, null=True, default=None)
    apns_topic = Varchar(length=255, null=True, default=None)
    apns_production = Boolean(null=True, default=None)
    updated_at = Timestamptz()

"""Apps (owned by a user, on a plan) and their API keys (only a hash is stored)."""

from piccolo.columns import BigSerial, ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

from api.users.tables import User


class App(Table, tablename="apps"):
    id = BigSerial(primary_key=True)
    owner = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=64)
    plan = Varchar(length=16, default="FREE")
    created_at = Timestamptz()


class ApiKey(Table, tablename="api_keys"):
    id = BigSerial(primary_key=True)
    app = ForeignKey(App, on_delete=OnDelete.cascade, index=True)
    prefix = Varchar(length=16)
    secret_hash = Varchar(length=64, unique=True, index=True)
    created_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)

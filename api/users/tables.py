"""Users of the dashboard."""

from piccolo.columns import BigSerial, Timestamptz, Varchar
from piccolo.table import Table


class User(Table, tablename="users"):
    id = BigSerial(primary_key=True)
    email = Varchar(length=320, unique=True, index=True)  # stored lower-cased
    password_hash = Varchar(length=255)
    created_at = Timestamptz()

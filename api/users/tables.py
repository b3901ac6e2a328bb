"""Users of the dashboard."""

from piccolo.columns import Timestamptz, Varchar
from piccolo.table import Table


class User(Table, tablename="users"):
    email = Varchar(length=320, unique=True, index=True)  # stored lower-cased
    password_hash = Varchar(length=255)
    created_at = Timestamptz()

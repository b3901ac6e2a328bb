"""Users of the dashboard."""

from piccolo.columns import BigSerial, Integer, Timestamptz, Varchar
from piccolo.table import Table


class User(Table, tablename="users"):
    id = BigSerial(primary_key=True)
    email = Varchar(length=320, unique=True, index=True)  # stored lower-cased
    password_hash = Varchar(length=255)
    created_at = Timestamptz()
    # Carried in every JWT (`ver`); a JWT whose version is not the current one is refused.
    # Starts random per user, so a row that ever got a deleted user's id cannot match their JWTs.
    token_version = Integer(default=0)

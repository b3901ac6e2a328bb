"""Channel settings of engagement: critical (bypasses quiet hours, digests and caps) and the
digest window (seconds during which further notifications to a device are merged into one)."""

from __future__ import annotations

from strawberry import UNSET

from api.channels import service as channels
from api.channels.tables import Channel
from api.errors import BadUserInput, NotFound

MIN_DIGEST_WINDOW = 5
MAX_DIGEST_WINDOW = 24 * 3600


async def update_channel(channel_id: int, *, critical: object = UNSET, digest_window: object = UNSET) -> dict:
    """Change what was given (UNSET: unchanged). A digest window of null or 0 turns digests off."""
    values: dict = {}
    if critical is not UNSET:
        if critical is None:
            raise BadUserInput("critical must be true or false")
        values[Channel.critical] = bool(critical)
    if digest_window is not UNSET:
        if digest_window is not None and digest_window != 0 and not (
            MIN_DIGEST_WINDOW <= digest_window <= MAX_DIGEST_WINDOW  # type: ignore[operator]
        ):
            raise BadUserInput(
                f"digestWindow must be between {MIN_DIGEST_WINDOW} and {MAX_DIGEST_WINDOW} seconds (0 or null: off)"
            )
        values[Channel.digest_window] = digest_window or None
    if values:
        await Channel.update(values).where(Channel.id == channel_id)
        channels.forget_cached()  # this process's name cache; others' entries expire within seconds
    row = await Channel.select().where(Channel.id == channel_id).first()
    if row is None:  # deleted meanwhile
        raise NotFound("channel not found")
    return row

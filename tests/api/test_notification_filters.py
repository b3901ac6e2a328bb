"""notifications(...) filtered by status and creation time (issue 11: the dashboard's
notifications page), with the channel filter that was there already."""

from __future__ import annotations

import datetime as dt

from api.notifications.tables import Notification
from tests.support import factories as f

LIST = (
    "query($a: ID!, $s: NotificationStatus, $since: DateTime, $until: DateTime, $c: ID) {"
    " notifications(appId: $a, status: $s, since: $since, until: $until, channelId: $c, first: 50)"
    " { nodes { title status } } }"
)


async def test_filters_by_status_time_and_channel(api):
    app = await f.make_app(api)
    news = await f.make_channel(api, app, name="news")
    await f.make_channel(api, app, name="other")
    for title, channel in (("old", "news"), ("mid", "other"), ("new", "news")):
        await f.send(api, app, channel=channel, title=title)
    old_time = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    await Notification.update({Notification.created_at: old_time}).where(Notification.title == "old")
    await Notification.update({Notification.status: "CANCELED"}).where(Notification.title == "mid")

    async def titles(**variables) -> list[str]:
        data = await api.ok(LIST, {"a": app.id, **variables}, token=app.owner.token)
        return [n["title"] for n in data["notifications"]["nodes"]]

    assert await titles() == ["new", "mid", "old"]
    assert await titles(s="CANCELED") == ["mid"]
    assert await titles(since="2026-06-01T00:00:00Z") == ["new", "mid"]
    assert await titles(until="2026-06-01T00:00:00Z") == ["old"]
    assert await titles(c=news["id"], since="2026-06-01T00:00:00Z") == ["new"]
    bad = await api.code(LIST, {"a": app.id, "s": "NOPE"}, token=app.owner.token)
    assert bad == "BAD_USER_INPUT"

"""One module per page: its state, its components and its route (``register``)."""

from dashboard.pages import (
    access_codes,
    account,
    apps,
    auth,
    channels,
    keys,
    live,
    not_found,
    notification_detail,
    notifications,
    overview,
    providers,
    send,
    settings,
    subscribers,
    webhooks,
)

ALL = (
    auth,
    apps,
    overview,
    send,
    notifications,
    notification_detail,
    live,
    channels,
    subscribers,
    access_codes,
    keys,
    webhooks,
    providers,
    settings,
    account,
    not_found,
)

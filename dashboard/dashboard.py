"""The Booper dashboard (Reflex). Run with the API: see README; pages in dashboard.pages."""

import reflex as rx

from dashboard import pages
from dashboard.state import (
    AccessCodeState,
    AppContext,
    AppsState,
    AuthState,
    ChannelsState,
    KeysState,
    LiveState,
    NotificationDetailState,
    NotificationsState,
    OverviewState,
    SendState,
    Session,
    SubscribersState,
)

app = rx.App()

# Every page forgets the secrets a previous response showed (they are shown once); every page
# inside an app checks the session, then that the viewer owns the app (not-found otherwise).
_APP = [Session.require_auth, Session.forget_secrets, AppContext.load_app]


def index() -> rx.Component:
    return rx.center(rx.spinner(size="3"), min_height="100vh")


app.add_page(index, route="/", title="Booper", on_load=Session.redirect_if_logged_in_or_login)
app.add_page(
    pages.login_page,
    route="/login",
    title="Log in · Booper",
    on_load=[AuthState.reset_form, Session.redirect_if_logged_in],
)
app.add_page(
    pages.signup_page,
    route="/signup",
    title="Sign up · Booper",
    on_load=[AuthState.reset_form, Session.redirect_if_logged_in],
)
app.add_page(
    pages.apps_page,
    route="/apps",
    title="Apps · Booper",
    on_load=[Session.require_auth, Session.forget_secrets, AppsState.load],
)
app.add_page(
    pages.overview_page,
    route="/apps/[aid]",
    title="Overview · Booper",
    on_load=[*_APP, OverviewState.load],
)
app.add_page(
    pages.keys_page,
    route="/apps/[aid]/keys",
    title="API keys · Booper",
    on_load=[*_APP, KeysState.load],
)
app.add_page(
    pages.channels_page,
    route="/apps/[aid]/channels",
    title="Channels · Booper",
    on_load=[*_APP, ChannelsState.load],
)
app.add_page(
    pages.subscribers_page,
    route="/apps/[aid]/channels/[cid]",
    title="Subscribers · Booper",
    on_load=[*_APP, SubscribersState.load],
)
app.add_page(
    pages.access_codes_page,
    route="/apps/[aid]/access-codes",
    title="Access codes · Booper",
    on_load=[*_APP, AccessCodeState.load],
)
app.add_page(
    pages.send_page,
    route="/apps/[aid]/send",
    title="Send · Booper",
    on_load=[*_APP, SendState.load],
)
app.add_page(
    pages.notifications_page,
    route="/apps/[aid]/notifications",
    title="Notifications · Booper",
    on_load=[*_APP, NotificationsState.load],
)
app.add_page(
    pages.notification_detail_page,
    route="/apps/[aid]/notifications/[nid]",
    title="Notification · Booper",
    on_load=[*_APP, NotificationDetailState.load],
)
app.add_page(
    pages.live_page,
    route="/apps/[aid]/live",
    title="Live · Booper",
    on_load=[*_APP, LiveState.start],
)
app.add_page(pages.not_found_page, route="/404", title="Not found · Booper")

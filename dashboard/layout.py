"""The frame around every page: the top bar (with the phone menu under 768 px), the app
sidebar, and the shells that put a page's content in them."""

from __future__ import annotations

import reflex as rx
from reflex.vars import VarData

from dashboard.components import badge, error_callout, not_found
from dashboard.session import AppContext, Session

CONTENT_WIDTH = "1120px"
# Under this width (Radix's md, 768 px) the sidebar and the user menu fold behind a button.
DESKTOP_ONLY = rx.breakpoints(initial="none", md="flex")
PHONE_ONLY = rx.breakpoints(initial="flex", md="none")

# The app the URL names, read in the browser (React Router's params), not from the state: a link
# built from it is right as soon as a page is painted, while AppContext.app_id still names the
# app of the last page (or none) until this page's load has confirmed its app.
ROUTE_APP_ID = rx.Var(
    _js_expr='(routeParams.aid ?? "")',
    _var_type=str,
    _var_data=VarData(
        imports={"react-router": [rx.ImportVar(tag="useParams")]},
        hooks={"const routeParams = useParams();": None},
    ),
).to(str)


# The path the browser is at (React Router's location, without a trailing "/"): the sidebar marks
# its page at once, while the server's router.url.path names the last page until the server has
# handled an event from this one (later still when it is busy with an earlier event).
ROUTE_PATH = rx.Var(
    _js_expr='routeLocation.pathname.replace(/\\/+$/, "")',
    _var_type=str,
    _var_data=VarData(
        imports={"react-router": [rx.ImportVar(tag="useLocation")]},
        hooks={"const routeLocation = useLocation();": None},
    ),
).to(str)


# The URL's last path segment (a person's, people_forms.person_segment) as a query parameter's
# value: its "~" escape taken off, then percent-encoded afresh (the path keeps it encoded, a "/"
# as %2F). Read in the browser, as the two above, so a link built from it is right at once.
ROUTE_LAST_SEGMENT_AS_QUERY = rx.Var(
    _js_expr=(
        '((s) => { s = s.startsWith("~") ? s.slice(1) : s;'
        " try { return encodeURIComponent(decodeURIComponent(s)); } catch (e) { return encodeURIComponent(s); } })"
        '(routeLocation.pathname.replace(/\\/+$/, "").split("/").pop() ?? "")'
    ),
    _var_type=str,
    _var_data=VarData(
        imports={"react-router": [rx.ImportVar(tag="useLocation")]},
        hooks={"const routeLocation = useLocation();": None},
    ),
).to(str)


def app_href(suffix: str = ""):
    """A page of the app the URL names: "/apps/<id><suffix>"."""
    return "/apps/" + ROUTE_APP_ID + suffix


def brand() -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.center(
                rx.icon("bell-ring", size=18, color="white"),
                bg=rx.color("iris", 9),
                border_radius="8px",
                width="30px",
                height="30px",
            ),
            rx.heading("Booper", size="5", weight="bold"),
            align="center",
            spacing="2",
        ),
        href="/apps",
        underline="none",
        color=rx.color("gray", 12),
    )


def top_bar(in_app: bool = False) -> rx.Component:
    return rx.box(
        rx.hstack(
            brand(),
            rx.spacer(),
            rx.cond(
                Session.logged_in,
                rx.icon_button(
                    rx.cond(Session.menu_open, rx.icon("x", size=20), rx.icon("menu", size=20)),
                    variant="soft",
                    color_scheme="gray",
                    size="3",
                    on_click=Session.toggle_menu,
                    aria_label="Menu",
                    id="menu-toggle",
                    display=PHONE_ONLY,
                ),
            ),
            rx.cond(
                Session.logged_in,
                rx.hstack(
                    rx.hstack(
                        rx.icon("circle-user", size=18, color=rx.color("gray", 10)),
                        rx.link(
                            Session.user_email,
                            href="/account",
                            size="2",
                            color_scheme="gray",
                            id="user-email",
                        ),
                        align="center",
                        spacing="1",
                    ),
                    rx.button(
                        rx.icon("log-out", size=16),
                        "Log out",
                        variant="soft",
                        color_scheme="gray",
                        size="2",
                        on_click=Session.log_out,
                        id="logout",
                    ),
                    align="center",
                    spacing="4",
                    display=DESKTOP_ONLY,
                ),
            ),
            align="center",
            width="100%",
            max_width="1360px",
            margin_x="auto",
            padding_x=rx.breakpoints(initial="12px", md="24px"),
            height="56px",
        ),
        rx.cond(Session.logged_in & Session.menu_open, mobile_menu(in_app)),
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        bg=rx.color("gray", 1),
        position="sticky",
        top="0",
        z_index="10",
        width="100%",
    )


def shell(*children: rx.Component) -> rx.Component:
    """Pages outside an app (the apps list)."""
    return rx.box(
        top_bar(),
        rx.box(*children, max_width=CONTENT_WIDTH, margin_x="auto", padding=PAGE_PADDING),
        min_height="100vh",
        bg=rx.color("gray", 2),
    )


NAV = (
    ("Overview", "layout-dashboard", ""),
    ("Send", "send", "/send"),
    ("Notifications", "inbox", "/notifications"),
    ("Live", "radio", "/live"),
    ("People", "users", "/people"),
    ("Devices", "smartphone", "/devices"),
    ("Channels", "hash", "/channels"),
    ("Access codes", "key-round", "/access-codes"),
    ("API keys", "key", "/keys"),
    ("Webhooks", "webhook", "/webhooks"),
    ("Providers", "cloud", "/providers"),
    ("Settings", "settings", "/settings"),
)


PAGE_PADDING = rx.breakpoints(initial="20px 12px 48px", md="32px 24px 64px")


def mobile_menu(in_app: bool) -> rx.Component:
    """The phone menu under the top bar: the app's pages (inside an app), all apps, log-out."""
    return rx.vstack(
        rx.text(Session.user_email, size="2", color_scheme="gray"),
        rx.separator(size="4"),
        *([nav_link(*item, prefix="menu") for item in NAV] if in_app else []),
        rx.link(
            "All apps", href="/apps", on_click=Session.close_menu, size="2", padding="8px 12px"
        ),
        rx.button(
            rx.icon("log-out", size=16),
            "Log out",
            variant="soft",
            color_scheme="gray",
            width="100%",
            on_click=Session.log_out,
            id="logout-menu",
        ),
        display=PHONE_ONLY,
        padding="12px",
        spacing="1",
        width="100%",
        border_top=f"1px solid {rx.color('gray', 5)}",
        bg=rx.color("gray", 1),
        id="mobile-menu",
    )


def nav_link(label: str, icon: str, suffix: str, prefix: str = "nav") -> rx.Component:
    href = app_href(suffix)
    active = ROUTE_PATH == href if suffix == "" else ROUTE_PATH.startswith(href)
    return rx.link(
        rx.hstack(
            rx.icon(icon, size=16),
            rx.text(label, size="2", weight="medium"),
            align="center",
            spacing="2",
            padding="8px 12px",
            border_radius="8px",
            bg=rx.cond(active, rx.color("iris", 4), "transparent"),
            color=rx.cond(active, rx.color("iris", 11), rx.color("gray", 11)),
            _hover={"bg": rx.color("gray", 4)},
            width="100%",
        ),
        href=href,
        underline="none",
        width="100%",
        on_click=Session.close_menu,
        id=f"{prefix}-{label.lower().replace(' ', '-')}",
    )


def sidebar() -> rx.Component:
    return rx.vstack(
        rx.link(
            rx.hstack(
                rx.icon("arrow-left", size=14),
                rx.text("All apps", size="2"),
                align="center",
                spacing="1",
            ),
            href="/apps",
            color_scheme="gray",
            underline="none",
        ),
        rx.vstack(
            rx.text(
                rx.cond(AppContext.app_name != "", AppContext.app_name, "…"),
                size="4",
                weight="bold",
                id="app-name",
                trim="both",
            ),
            rx.cond(AppContext.app_plan != "", badge(AppContext.app_plan)),
            spacing="2",
            align="start",
            padding_y="8px",
        ),
        rx.separator(size="4"),
        *[nav_link(*item) for item in NAV],
        spacing="1",
        width="220px",
        min_width="220px",
        align="start",
        position="sticky",
        top="80px",
        display=DESKTOP_ONLY,
    )


def app_shell(*children: rx.Component, **props) -> rx.Component:
    """Pages of one app: sidebar navigation plus content, or not-found when the URL names an
    app (channel, notification) the viewer does not own: nothing of it is shown."""
    return rx.box(
        top_bar(in_app=True),
        rx.cond(
            AppContext.missing,
            rx.box(not_found(), max_width=CONTENT_WIDTH, margin_x="auto", padding=PAGE_PADDING),
            _app_frame(*children, **props),
        ),
        min_height="100vh",
        bg=rx.color("gray", 2),
    )


def _app_frame(*children: rx.Component, **props) -> rx.Component:
    return rx.hstack(
        sidebar(),
        rx.box(
            rx.cond(
                AppContext.app_error != "",
                error_callout(AppContext.app_error, margin_bottom="16px"),
            ),
            *children,
            flex="1",
            min_width="0",
        ),
        spacing=rx.breakpoints(initial="0", md="7"),
        align="start",
        max_width="1360px",
        margin_x="auto",
        padding=PAGE_PADDING,
        **props,
    )

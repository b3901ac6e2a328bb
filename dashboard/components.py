"""Shared look: the page shell, the app sidebar, badges, empty/loading/error states."""

from __future__ import annotations

import reflex as rx

from dashboard.session import AppContext, Session

CONTENT_WIDTH = "1120px"

STATUS_COLORS = (
    ("DELIVERED", "green"),
    ("COMPLETED", "green"),
    ("FAILED", "red"),
    ("SENT", "blue"),
    ("PENDING", "amber"),
    ("QUEUED", "amber"),
    ("SCHEDULED", "violet"),
    ("CANCELED", "gray"),
    ("PRIVATE", "crimson"),
    ("PUBLIC", "teal"),
    ("FREE", "gray"),
    ("PRO", "indigo"),
    ("BUSINESS", "amber"),
    ("HIGH", "red"),
    ("NORMAL", "blue"),
)


def badge(value, **props) -> rx.Component:
    """A colored badge for a status, visibility, plan or priority."""
    return rx.badge(
        value,
        color_scheme=rx.match(value, *STATUS_COLORS, "gray"),
        variant="soft",
        radius="full",
        **props,
    )


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


# Under this width (Radix's md, 768 px) the sidebar and the user menu fold behind a button.
DESKTOP_ONLY = rx.breakpoints(initial="none", md="flex")
PHONE_ONLY = rx.breakpoints(initial="flex", md="none")


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
                        rx.text(Session.user_email, size="2", color_scheme="gray", id="user-email"),
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


def page_header(title, subtitle=None, *actions: rx.Component) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.heading(title, size="7", weight="bold", id="page-title"),
            rx.cond(subtitle is not None, rx.text(subtitle, color_scheme="gray", size="2"))
            if subtitle is not None
            else rx.fragment(),
            spacing="1",
            align="start",
        ),
        rx.spacer(),
        *actions,
        align="end",
        width="100%",
        margin_bottom="20px",
        wrap="wrap",
    )


def error_callout(message, **props) -> rx.Component:
    return rx.callout(
        message,
        icon="triangle-alert",
        color_scheme="red",
        variant="surface",
        role="alert",
        width="100%",
        **props,
    )


def info_callout(message, **props) -> rx.Component:
    return rx.callout(
        message, icon="info", color_scheme="blue", variant="surface", width="100%", **props
    )


def loading(label: str = "Loading…") -> rx.Component:
    return rx.center(
        rx.hstack(
            rx.spinner(size="3"), rx.text(label, color_scheme="gray"), align="center", spacing="3"
        ),
        padding="48px",
        width="100%",
        class_name="loading",
    )


def empty_state(icon: str, title: str, text: str, *actions: rx.Component, **props) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.center(
                rx.icon(icon, size=28, color=rx.color("iris", 10)),
                bg=rx.color("iris", 3),
                border_radius="999px",
                width="56px",
                height="56px",
            ),
            rx.heading(title, size="4"),
            rx.text(text, color_scheme="gray", size="2", text_align="center", max_width="420px"),
            *actions,
            align="center",
            spacing="3",
        ),
        **{
            "padding": "48px 24px",
            "width": "100%",
            "border": f"1px dashed {rx.color('gray', 6)}",
            "border_radius": "12px",
            "class_name": "empty-state",
            **props,
        },
    )


def stat_card(
    label: str, value, icon: str, hint=None, color: str = "iris", **props
) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(label, size="2", color_scheme="gray", weight="medium"),
                rx.spacer(),
                rx.center(
                    rx.icon(icon, size=16, color=rx.color(color, 11)),
                    bg=rx.color(color, 3),
                    border_radius="8px",
                    width="28px",
                    height="28px",
                ),
                width="100%",
                align="center",
            ),
            rx.heading(value, size="7", weight="bold"),
            rx.cond(hint is not None, rx.text(hint, size="1", color_scheme="gray"))
            if hint is not None
            else rx.fragment(),
            spacing="2",
            align="start",
            width="100%",
        ),
        width="100%",
        **props,
    )


def copy_button(value, label: str = "Copy", **props) -> rx.Component:
    return rx.button(
        rx.icon("copy", size=16),
        label,
        variant="soft",
        on_click=[
            rx.set_clipboard(value),
            rx.toast.success("Copied to the clipboard.", duration=2000),
        ],
        **props,
    )


def secret_callout(secret, on_dismiss, text: str, test_id: str) -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon("key-round")),
        rx.vstack(
            rx.text(text, weight="bold", size="2"),
            rx.text("Copy it now: it is shown only this once.", size="2"),
            rx.hstack(
                rx.code(
                    secret,
                    size="3",
                    variant="outline",
                    id=test_id,
                    style={"word-break": "break-all"},
                ),
                copy_button(secret),
                rx.button("Done", variant="ghost", on_click=on_dismiss),
                align="center",
                spacing="3",
                wrap="wrap",
            ),
            spacing="2",
            align="start",
        ),
        color_scheme="green",
        variant="surface",
        width="100%",
        margin_bottom="20px",
    )


def confirm_dialog(
    *title,
    text: str,
    confirm: str,
    on_confirm,
    on_cancel,
    open,
    confirm_id: str,
    error=None,
    busy=None,
    typed=None,
) -> rx.Component:
    """A destructive action asked once more. ``typed``: (what to type, what was typed, its
    setter): the button stays disabled until the typed text matches (deleting an app)."""
    extra = []
    ready = True
    if typed is not None:
        expected, value, on_type = typed
        ready = value == expected
        extra.append(
            rx.vstack(
                rx.text("Type ", rx.code(expected), " to confirm.", size="2"),
                rx.input(value=value, on_change=on_type, width="100%", id=f"{confirm_id}-typed"),
                spacing="2",
                margin_top="12px",
                width="100%",
            )
        )
    if error is not None:
        extra.append(rx.cond(error != "", error_callout(error, margin_top="12px")))
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(*title),
            rx.alert_dialog.description(text, size="2"),
            *extra,
            rx.hstack(
                rx.alert_dialog.cancel(
                    rx.button("Cancel", variant="soft", color_scheme="gray", on_click=on_cancel)
                ),
                rx.button(
                    confirm,
                    color_scheme="red",
                    on_click=on_confirm,
                    loading=False if busy is None else busy,
                    disabled=~ready if typed is not None else False,
                    id=confirm_id,
                ),
                justify="end",
                spacing="3",
                margin_top="16px",
            ),
        ),
        open=open,
    )


def field_error(message) -> rx.Component:
    return rx.cond(
        message != "",
        rx.text(message, color_scheme="red", size="1", class_name="field-error"),
    )


def pager(page, has_next, prev_event, next_event, label: str = "Page") -> rx.Component:
    return rx.hstack(
        rx.text(label, " ", page, size="2", color_scheme="gray"),
        rx.spacer(),
        rx.button(
            rx.icon("chevron-left", size=16),
            "Previous",
            variant="soft",
            disabled=page <= 1,
            on_click=prev_event,
            id="prev-page",
        ),
        rx.button(
            "Next",
            rx.icon("chevron-right", size=16),
            variant="soft",
            disabled=~has_next,
            on_click=next_event,
            id="next-page",
        ),
        width="100%",
        align="center",
        padding_top="12px",
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
    ("Channels", "hash", "/channels"),
    ("Access codes", "key-round", "/access-codes"),
    ("API keys", "key", "/keys"),
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
    href = "/apps/" + AppContext.app_id + suffix
    path = rx.State.router.url.path
    active = rx.cond(suffix == "", path == href, path.startswith(href))  # type: ignore[attr-defined]
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


def not_found(text: str = "That page doesn't exist, or it isn't yours.") -> rx.Component:
    return empty_state(
        "compass",
        "Page not found",
        text,
        rx.link(rx.button("Back to your apps"), href="/apps"),
        id="not-found",
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

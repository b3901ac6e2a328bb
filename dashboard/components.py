"""Shared pieces of every page: badges, headers, callouts, empty/loading states, the confirm
dialog, the pager, not-found (the frame around pages is in dashboard.layout)."""

from __future__ import annotations

import reflex as rx

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


def data_table(headers, rows, render, *footer: rx.Component) -> rx.Component:
    """A list as a table in a card (it scrolls inside its own box on narrow screens), with an
    optional footer (the pager)."""
    return rx.card(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
            rx.table.body(rx.foreach(rows, render)),
            width="100%",
        ),
        *footer,
        width="100%",
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


def not_found(text: str = "That page doesn't exist, or it isn't yours.") -> rx.Component:
    return empty_state(
        "compass",
        "Page not found",
        text,
        rx.link(rx.button("Back to your apps"), href="/apps"),
        id="not-found",
    )


# -- devices in tables (the Devices and person pages) ---------------------------------------


def device_cells(d) -> tuple[rx.Component, rx.Component]:
    """A device row's platform and token cells (the token or its hint, and the device's id,
    which a send to devices names)."""
    return (
        rx.table.cell(rx.badge(d["platform"], variant="outline")),
        rx.table.cell(
            rx.code(d["token"], size="1"),
            rx.text("id ", d["id"], size="1", color_scheme="gray", class_name="device-id"),
        ),
    )


# -- Engagement: delivery states HELD / SKIPPED, retracted notifications, access-code states -----

STATUS_COLORS += (
    ("HELD", "orange"),
    ("SKIPPED", "gray"),
    ("RETRACTED", "crimson"),
    ("VALID", "green"),
    ("USED", "blue"),
    ("EXPIRED", "gray"),
    ("OPENED", "teal"),
)


def labelled_count(count, label, color: str, **props) -> rx.Component:
    """A number with its word ("2 held"), never a colour alone."""
    return rx.badge(count, " ", label, color_scheme=color, variant="soft", **props)

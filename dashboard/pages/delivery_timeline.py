"""The notification page's deliveries: a row per device with its final state, and a
per-device timeline of every provider outcome (Delivery.history: each send, each retry with
its error, the Expo ticket and its receipt)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from dashboard import forms
from dashboard.components import badge, empty_state
from dashboard.rows import delivery_row

ATTEMPT_KINDS = {"SEND": "Send", "RECEIPT": "Receipt"}


def timeline_rows(deliveries: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Every attempt of every delivery, grouped by device, oldest first: flat rows (state vars
    hold lists of string dicts), the first of each device carrying its label."""
    rows: list[dict[str, str]] = []
    for d in deliveries:
        device = delivery_row(d)
        for i, a in enumerate(d.get("history") or []):
            status = a.get("status") or ""
            rows.append({
                "device": f"{device['platform']} {device['device']}" if i == 0 else "",
                "kind": ATTEMPT_KINDS.get(a.get("kind") or "", a.get("kind") or ""),
                # What the attempt left the delivery in: PENDING after an attempt is a retry due.
                "outcome": "RETRY" if status == "PENDING" else status,
                "error": a.get("error") or "",
                "ticket": a.get("ticketId") or "",
                "at": forms.format_time(a.get("at")),
            })
    return rows


def _attempt(a) -> rx.Component:
    return rx.vstack(
        rx.cond(a["device"] != "", rx.code(a["device"], size="1", margin_top="8px", class_name="timeline-device")),
        rx.hstack(
            rx.text(a["at"], size="1", color_scheme="gray"),
            rx.badge(a["kind"], variant="outline", size="1"),
            badge(a["outcome"], class_name="attempt-outcome"),
            rx.cond(a["error"] != "", rx.text(a["error"], color_scheme="red", size="2", class_name="attempt-error")),
            rx.cond(a["ticket"] != "", rx.code(a["ticket"], size="1")),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        spacing="1",
        padding_left="8px",
        border_left="2px solid var(--gray-a5)",
        width="100%",
        class_name="timeline-attempt",
    )


def attempt_timeline(attempts) -> rx.Component:
    return rx.vstack(
        rx.heading("Attempt timeline", size="4", margin_top="8px"),
        rx.card(
            rx.vstack(rx.foreach(attempts, _attempt), spacing="2", width="100%"),
            width="100%",
        ),
        spacing="2",
        width="100%",
        id="attempt-timeline",
    )


def deliveries_section(deliveries, has_more, scheduled) -> rx.Component:
    return (
    rx.cond(
        deliveries.length() > 0,
        rx.card(
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in (
                                "Device",
                                "Status",
                                "Attempts",
                                "Ticket",
                                "Error",
                                "Updated",
                            )
                        ]
                    )
                ),
                rx.table.body(
                    rx.foreach(deliveries, _delivery_row)
                ),
                width="100%",
            ),
            rx.cond(
                has_more,
                rx.text(
                    "Showing the first 100 deliveries.",
                    size="1",
                    color_scheme="gray",
                    padding_top="8px",
                ),
            ),
            width="100%",
        ),
        empty_state(
            "smartphone",
            "No deliveries yet",
            rx.cond(
                scheduled,
                "Deliveries are created when the scheduled time comes.",
                "Deliveries appear as the notification fans out to subscribed devices. No subscribers, no deliveries.",  # noqa: E501
            ),
        ),
    )
    )


def _delivery_row(d) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.hstack(
                    rx.badge(d["platform"], variant="outline", size="1"),
                    rx.code(d["device"], size="1"),
                    spacing="2",
                    align="center",
                ),
                rx.cond(
                    d["identifier"] != "", rx.text(d["identifier"], size="1", color_scheme="gray")
                ),
                spacing="1",
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.box(badge(d["status"]), class_name="delivery-status"),
                rx.cond(
                    d["reason"] != "",
                    rx.text(d["reason"], size="1", color_scheme="gray", class_name="delivery-reason"),
                ),
                rx.cond(d["opened"] != "", rx.badge("opened", color_scheme="teal", size="1")),
                spacing="2",
                align="center",
                wrap="wrap",
            )
        ),
        rx.table.cell(d["attempts"]),
        rx.table.cell(
            rx.cond(
                d["ticket"] != "", rx.code(d["ticket"], size="1"), rx.text("—", color_scheme="gray")
            )
        ),
        rx.table.cell(
            rx.cond(
                d["error"] != "",
                rx.text(d["error"], color_scheme="red", size="2"),
                rx.text("—", color_scheme="gray"),
            )
        ),
        rx.table.cell(rx.text(d["updated"], size="2")),
        align="center",
    )



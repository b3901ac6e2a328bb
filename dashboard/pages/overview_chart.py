"""The overview's chart: deliveries per hour over the last 24 hours, by outcome."""

from __future__ import annotations

import reflex as rx

from dashboard.components import error_callout, loading


def delivery_chart(chart, chart_loading, chart_error, chart_empty) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Deliveries, last 24 hours", size="4"),
                rx.spacer(),
                rx.hstack(
                    *[
                        rx.hstack(
                            rx.box(
                                width="10px", height="10px", border_radius="3px", bg=rx.color(c, 9)
                            ),
                            rx.text(label, size="1", color_scheme="gray"),
                            align="center",
                            spacing="1",
                        )
                        for label, c in (
                            ("Sent", "blue"),
                            ("Delivered", "green"),
                            ("Failed", "red"),
                        )
                    ],
                    spacing="3",
                ),
                width="100%",
                align="center",
            ),
            rx.cond(
                chart_error != "",
                error_callout(chart_error),
                rx.cond(
                    chart_loading,
                    loading("Loading the chart…"),
                    rx.box(
                        rx.recharts.bar_chart(
                            rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
                            rx.recharts.x_axis(data_key="time", tick_line=False, font_size=12),
                            rx.recharts.y_axis(
                                allow_decimals=False, tick_line=False, font_size=12, width=40
                            ),
                            rx.recharts.graphing_tooltip(),
                            rx.recharts.bar(
                                data_key="sent", name="Sent", stack_id="a", fill=rx.color("blue", 9)
                            ),
                            rx.recharts.bar(
                                data_key="delivered",
                                name="Delivered",
                                stack_id="a",
                                fill=rx.color("green", 9),
                            ),
                            rx.recharts.bar(
                                data_key="failed",
                                name="Failed",
                                stack_id="a",
                                fill=rx.color("red", 9),
                                radius=[3, 3, 0, 0],
                            ),
                            data=chart,
                            width="100%",
                            height=260,
                        ),
                        rx.cond(
                            chart_empty,
                            rx.text(
                                "No deliveries in the last 24 hours yet.",
                                size="2",
                                color_scheme="gray",
                                text_align="center",
                                width="100%",
                            ),
                        ),
                        width="100%",
                        id="delivery-chart",
                    ),
                ),
            ),
            spacing="4",
            width="100%",
        ),
        width="100%",
    )

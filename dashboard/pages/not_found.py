"""The page for a URL that names nothing."""

from __future__ import annotations

import reflex as rx

from dashboard.components import not_found
from dashboard.layout import shell


def not_found_page() -> rx.Component:
    return shell(not_found("That page doesn't exist."))


def register(app: rx.App) -> None:
    app.add_page(not_found_page, route="/404", title="Not found · Booper", on_load=None)

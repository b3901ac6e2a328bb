"""The Booper dashboard (Reflex). Run with the API: see README. One module per page in
dashboard.pages, each adding its own route."""

import reflex as rx

from dashboard import pages
from dashboard.session import Session

# The favicon (assets/favicon.svg): a tab among many says which one is Booper.
app = rx.App(head_components=[rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml")])


def index() -> rx.Component:
    return rx.center(rx.spinner(size="3"), min_height="100vh")


app.add_page(index, route="/", title="Booper", on_load=Session.redirect_if_logged_in_or_login)
for page in pages.ALL:
    page.register(app)

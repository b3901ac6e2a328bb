"""Reflex configuration for the Booper dashboard.

The dashboard is a client of the public GraphQL API; where that API lives comes
from BOOPER_API_URL (read by dashboard.client, default http://127.0.0.1:8000).
BOOPER_PROXY_SECRET (shared with the API) lets the dashboard forward each browser's address
to the API. Only the backend port is pinned: `reflex run --env prod` serves the built
frontend and the backend on that one port (BOOPER_DASHBOARD_PORT, default 3000).
"""

import os

import reflex as rx

config = rx.Config(
    app_name="dashboard",
    # Reverse proxies in front of the dashboard whose X-Forwarded-For is believed for the
    # browser's address (which the dashboard forwards to the API). 0: the peer is the browser.
    trusted_proxy_hops=int(os.environ.get("BOOPER_DASHBOARD_PROXY_HOPS", "0")),
    backend_port=int(os.environ.get("BOOPER_DASHBOARD_PORT", "3000")),
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(
                appearance="light", accent_color="iris", gray_color="slate", radius="medium"
            )
        ),
    ],
    disable_plugins=[rx.plugins.SitemapPlugin],
)

"""Delivery suite fixtures: every test starts with an empty sandbox after the database reset,
and ends with the in-process queue settled, so no task of one test lands in the next."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
async def _clean_slate(api, api_server, sandbox):
    # `api` settled the queue and emptied the database; drop whatever reached the sandbox meanwhile.
    sandbox.reset()
    yield
    await api_server.settle()

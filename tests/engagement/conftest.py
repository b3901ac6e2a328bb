"""Engagement suite fixtures: the delivery suite's clean slate (empty sandbox, settled queue)."""

from tests.delivery.conftest import _clean_slate  # noqa: F401 - an autouse fixture, shared

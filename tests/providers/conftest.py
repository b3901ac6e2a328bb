"""Provider tests use the shared sandbox fixtures from tests/conftest.py."""

"""Webhooks: an app's URL receives signed JSON events, delivered from a ledger with retries."""

"""Notifications, their per-device deliveries (the ledger) and read marks."""

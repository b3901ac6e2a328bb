"""Delivery: fan-out, provider sends, receipts, retries and the sweep that makes the ledger whole."""

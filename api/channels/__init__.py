"""Channels (public and private) and device subscriptions to them."""

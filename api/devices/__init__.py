"""Devices (Expo tokens, Web Push subscriptions) and their access grants."""

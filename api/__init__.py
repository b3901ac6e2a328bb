"""Booper: a self-hostable push-notification service."""

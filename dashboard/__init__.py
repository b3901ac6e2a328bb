"""Booper dashboard: a Reflex app that is a client of the public GraphQL API."""

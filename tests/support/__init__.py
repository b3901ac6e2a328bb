"""Test support: the sandbox and API servers, a GraphQL client, factories."""

"""The HTTP surface: Litestar app with /graphql (HTTP and graphql-transport-ws) and health checks."""

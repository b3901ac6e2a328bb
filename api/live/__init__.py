"""Live events: notifications and delivery changes streamed to GraphQL subscriptions."""

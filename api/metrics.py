"""Prometheus metrics. With several processes, set PROMETHEUS_MULTIPROC_DIR (an empty
directory shared by every API and worker process of a host) and /metrics aggregates them."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

NOTIFICATIONS_ACCEPTED = Counter(
    "booper_notifications_accepted_total", "Notifications accepted by sendNotification", ["scheduled"]
)
DELIVERIES = Counter(
    "booper_deliveries_total", "Delivery outcomes by provider", ["provider", "outcome"]
)
DELIVERY_LATENCY = Histogram(
    "booper_delivery_latency_seconds",
    "From the delivery row's creation to its provider accepting it",
    ["provider"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
)
RECEIPTS_CHECKED = Counter("booper_receipts_checked_total", "Expo receipts looked up", ["outcome"])
RATE_LIMITED = Counter("booper_rate_limited_total", "Requests refused by a rate limit", ["limit"])
PENDING_DELIVERIES = Gauge(
    "booper_pending_deliveries", "Deliveries waiting to be handed to a provider", multiprocess_mode="max"
)
QUEUE_DEPTH = Gauge("booper_queue_depth", "Tasks waiting in the Redis streams", ["stream"], multiprocess_mode="max")
LIVE_SUBSCRIBERS = Gauge(
    "booper_live_subscribers", "GraphQL subscription streams open in this process", multiprocess_mode="livesum"
)


def render() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST

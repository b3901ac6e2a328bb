"""/metrics parsed with prometheus-client's own parser after a send; /healthz and /readyz."""

from __future__ import annotations

import asyncio

from prometheus_client.parser import text_string_to_metric_families

from tests.support import factories as f


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def test_metrics_count_an_accepted_notification_and_its_delivery(api, sandbox, api_server):
    before = _samples((await api.http.get("/metrics")).text)
    app = await f.make_app(api)
    channel = await f.make_channel(api, app, name="news")
    device = await f.make_expo_device(api)
    await f.subscribe(api, device, channel)
    await f.send(api, app, channel="news", title="count me")
    for _ in range(100):
        after = _samples((await api.http.get("/metrics")).text)
        key = ("booper_deliveries_total", (("outcome", "SENT"), ("provider", "EXPO")))
        if after.get(key, 0) > before.get(key, 0):
            break
        await asyncio.sleep(0.05)
    accepted = ("booper_notifications_accepted_total", (("scheduled", "false"),))
    assert after[accepted] - before.get(accepted, 0) == 1
    assert after[key] - before.get(key, 0) == 1
    latency = ("booper_delivery_latency_seconds_count", (("provider", "EXPO"),))
    assert after[latency] - before.get(latency, 0) == 1
    assert ("booper_pending_deliveries", ()) in after


async def test_health_and_readiness(api):
    assert (await api.http.get("/healthz")).json() == {"status": "ok"}
    ready = await api.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok"}


async def test_metrics_can_be_protected_with_a_bearer_token(api, settings):
    assert (await api.http.get("/metrics")).status_code == 200  # unset: open, as before
    settings.metrics_token = "s3cret-metrics-token"
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "s3cret-metrics-token"},
                    {"authorization": "Basic s3cret-metrics-token"}, {"authorization": "Bearer s3cret"}):
        refused = await api.http.get("/metrics", headers=headers)
        assert refused.status_code == 401, headers
        assert "booper_" not in refused.text
        assert refused.headers["www-authenticate"].startswith("Bearer")
    allowed = await api.http.get("/metrics", headers={"authorization": "Bearer s3cret-metrics-token"})
    assert allowed.status_code == 200
    assert any(f.name == "booper_pending_deliveries" for f in text_string_to_metric_families(allowed.text))

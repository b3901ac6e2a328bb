"""The shortest path through the product: sign up, app, channel, device, send, delivered."""

import asyncio

from tests.support import factories as f


async def test_first_notification_reaches_the_sandbox_and_is_delivered(api, sandbox):
    app = await f.make_app(api)
    channel = await f.make_channel(api, app, name="alerts")
    device = await f.make_expo_device(api)
    await f.subscribe(api, device, channel)

    sent = await f.send(api, app, channel="alerts", title="Hello", body="First!")
    assert sent["status"] == "QUEUED"

    for _ in range(100):
        data = await api.ok(
            "query($n: ID!) { notification(id: $n) { status deliveryCounts { delivered } } }",
            {"n": sent["id"]},
            api_key=app.api_key,
        )
        if data["notification"]["status"] == "COMPLETED":
            break
        await asyncio.sleep(0.05)
    assert data["notification"] == {"status": "COMPLETED", "deliveryCounts": {"delivered": 1}}
    messages = sandbox.messages(to=device["token"])
    assert [m["message"]["title"] for m in messages] == ["Hello"]

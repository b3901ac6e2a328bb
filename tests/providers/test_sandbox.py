"""The sandbox providers' own behaviour, over real HTTP: validation, VAPID checks, faults, stats."""

import gzip

import orjson

from api.providers.vapid import b64url_encode
from api.providers.webpush import VapidSigner, encrypt_payload, generate_vapid_private_key

TOKEN = "ExponentPushToken[sandbox-test]"


def test_expo_validates_batches_and_tokens(sandbox):
    http = sandbox.control
    too_many = http.post("/--/api/v2/push/send", json=[{"to": TOKEN}] * 101)
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0]["code"] == "PUSH_TOO_MANY_NOTIFICATIONS"
    tickets = http.post("/--/api/v2/push/send", json=[{"to": "nope"}, {"to": TOKEN}]).json()
    assert tickets["data"][0]["details"]["error"] == "DeviceNotRegistered"
    assert tickets["data"][1]["status"] == "ok"
    too_many_ids = http.post("/--/api/v2/push/getReceipts", json={"ids": ["x"] * 1001})
    assert too_many_ids.status_code == 400


def test_expo_accepts_gzip_bodies_and_token_lists(sandbox):
    other = "ExpoPushToken[second]"
    body = gzip.compress(orjson.dumps({"to": [TOKEN, other], "body": "both"}))
    response = sandbox.control.post(
        "/--/api/v2/push/send", content=body,
        headers={"content-encoding": "gzip", "content-type": "application/json"})
    assert [t["status"] for t in response.json()["data"]] == ["ok", "ok"]
    assert [m["to"] for m in sandbox.messages()] == [TOKEN, other]
    stats = sandbox.stats()
    assert stats["requests"]["expo"] == 1 and stats["messages"]["expo"] == 2


def test_messages_reset(sandbox):
    sandbox.control.post("/--/api/v2/push/send", json={"to": TOKEN})
    assert len(sandbox.messages(TOKEN)) == 1
    sandbox.control.delete("/sandbox/messages")
    assert sandbox.messages() == [] and sandbox.stats()["requests"] == {}


def test_bad_fault_rules_are_refused(sandbox):
    http = sandbox.control
    assert http.post("/sandbox/faults", json={"provider": "expo", "fault": "bogus"}).status_code \
        == 400
    assert http.post("/sandbox/faults", json={"provider": "webpush",
                                              "fault": "DeviceNotRegistered"}).status_code == 400
    assert http.post("/sandbox/faults", json={"provider": "sms", "fault": "http_500"}).status_code \
        == 400
    assert http.get("/sandbox/faults").json() == []


def test_webpush_receiver_checks_ttl_vapid_and_encryption(sandbox):
    http = sandbox.control
    sub = sandbox.subscribe()
    url, keys = sub["endpoint"], sub["keys"]
    signer = VapidSigner(generate_vapid_private_key(), "mailto:ops@booper.test")
    body = encrypt_payload(b"hi", keys["p256dh"], keys["auth"])
    good = {**signer.headers_for(url), "TTL": "30", "Content-Encoding": "aes128gcm"}

    def status(headers: dict, content: bytes = body, to: str = url) -> int:
        return http.post(to, content=content, headers=headers).status_code

    assert status({k: v for k, v in good.items() if k != "TTL"}) == 400
    assert status({k: v for k, v in good.items() if k != "Authorization"}) == 401
    other_origin = signer.headers_for("https://elsewhere.test/x")
    assert status({**good, **other_origin}) == 401  # aud names another push service
    token, key = good["Authorization"].split(",k=")
    forged = f"{token[:-4]}AAAA,k={key}"
    assert status({**good, "Authorization": forged}) == 401  # signature does not verify
    assert status({**good, "Content-Encoding": "aesgcm"}) == 415
    assert status(good, content=b"garbage" * 10) == 400
    assert status(good, to=url.rsplit("/", 1)[0] + "/unknown") == 410
    assert sandbox.messages(sub["id"]) == []
    assert status(good) == 201
    [received] = sandbox.messages(sub["id"])
    assert received["payload"] == "hi" and received["payload_b64"] == b64url_encode(b"hi")

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


def test_webpush_payloads_are_kept_sealed_and_decrypted_when_read(sandbox):
    """Like a real push service the receiver cannot vouch for the encryption: a well-framed body
    it cannot decrypt is accepted, and the message shows the error when read."""
    http = sandbox.control
    sub = sandbox.subscribe()
    signer = VapidSigner(generate_vapid_private_key(), "mailto:ops@booper.test")
    headers = {**signer.headers_for(sub["endpoint"]), "TTL": "30", "Content-Encoding": "aes128gcm"}
    other = sandbox.subscribe()["keys"]  # encrypted for another browser
    wrong = encrypt_payload(b"not for you", other["p256dh"], other["auth"])
    assert http.post(sub["endpoint"], content=wrong, headers=headers).status_code == 201
    right = encrypt_payload("Grüße".encode(), sub["keys"]["p256dh"], sub["keys"]["auth"])
    assert http.post(sub["endpoint"], content=right, headers=headers).status_code == 201
    assert http.post(sub["endpoint"], content=right[:80], headers=headers).status_code == 400
    undecryptable, received = sandbox.messages(sub["id"])
    assert undecryptable["payload"] is None and undecryptable["error"].startswith("cannot decrypt")
    assert received["payload"] == "Grüße" and "error" not in received
    assert sandbox.messages(sub["id"]) == [undecryptable, received]  # read twice, same answer


def test_webpush_receiver_answers_alike_with_faults_set(sandbox):
    """Pushes take the Litestar route while fault rules exist (any provider's): same checks."""
    http = sandbox.control
    sub = sandbox.subscribe()
    signer = VapidSigner(generate_vapid_private_key(), "mailto:ops@booper.test")
    good = {**signer.headers_for(sub["endpoint"]), "TTL": "30", "Content-Encoding": "aes128gcm"}
    body = encrypt_payload(b"hi", sub["keys"]["p256dh"], sub["keys"]["auth"])
    sandbox.faults({"match": "nobody", "provider": "expo", "fault": "http_500"})
    assert http.post(sub["endpoint"], content=body, headers={**good, "TTL": "soon"}).status_code == 400
    assert http.post(sub["endpoint"], content=body, headers={**good, "Urgency": "now"}).status_code == 400
    assert http.post(sub["endpoint"], content=b"garbage" * 10, headers=good).status_code == 400
    assert http.post(sub["endpoint"], content=body, headers=good).status_code == 201
    [received] = sandbox.messages(sub["id"])
    assert received["payload"] == "hi" and received["headers"] == {"ttl": 30, "urgency": None, "topic": None}

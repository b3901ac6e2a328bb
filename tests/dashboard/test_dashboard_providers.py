"""Issue 11, the app's own push credentials (setExpoAccessToken, setFcmCredentials: landed with
issue 14): set, shown by their public parts, refused with the API's words, removed."""

from __future__ import annotations

import json

import pytest

from tests.dashboard.helpers import expect, gql, log_in, make_app, new_email, sign_up

pytestmark = pytest.mark.browser

PROVIDERS = "query($a: ID!) { app(id: $a) { providers { expoAccessToken fcmProjectId } } }"


def _service_account() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "dash-project",
            "client_email": "push@dash-project.iam.gserviceaccount.com",
            "private_key": pem,
        }
    )


def test_push_provider_credentials(api_server, dashboard_url, context, shot):
    email = new_email("providers")
    token = sign_up(api_server, email)
    app_id, _ = make_app(api_server, token, "Provider App")
    page = context.new_page()
    log_in(page, dashboard_url, email, path=f"/apps/{app_id}/providers")
    expect(page.locator("#page-title")).to_have_text("Push providers")
    expect(page.locator("#expo-status")).to_contain_text("Not set")

    page.locator("#expo-token").fill("expo-secret-token-123")
    page.locator("#save-expo").click()
    expect(page.locator("#expo-status")).to_contain_text("Access token set")
    expect(page.locator("#expo-token")).to_have_value("")  # the secret is not kept in the page
    expect(page.locator("body")).not_to_contain_text("expo-secret-token-123")

    page.locator("#fcm-json").fill("{not json")
    page.locator("#save-fcm").click()
    expect(page.locator(".field-error")).to_be_visible()
    expect(page.locator("#fcm-status")).to_contain_text("Not set")
    page.locator("#fcm-json").fill(_service_account())
    page.locator("#save-fcm").click()
    expect(page.locator("#fcm-status")).to_contain_text("Project dash-project")
    shot(page, "providers")
    got = gql(api_server, PROVIDERS, {"a": app_id}, token=token)["app"]["providers"]
    assert got == {"expoAccessToken": True, "fcmProjectId": "dash-project"}

    page.locator("#expo-status").locator("..").locator("..").get_by_role(
        "button", name="Remove"
    ).click()
    expect(page.locator("#expo-status")).to_contain_text("Not set")

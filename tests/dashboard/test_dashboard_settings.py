"""Issue 11, what running an app needs: the app settings page (id, rename, plan and quota, the
Web Push key, snippets with the app's values) and the account page (change password, log out
everywhere, delete the account)."""

from __future__ import annotations

import re

import pytest

from tests.dashboard.helpers import PASSWORD, expect, gql, log_in, make_app, new_email, sign_up

pytestmark = pytest.mark.browser


def test_app_settings(api_server, dashboard_url, context, shot):
    email = new_email("settings")
    token = sign_up(api_server, email)
    app_id, _ = make_app(api_server, token, "Settings App")
    gql(
        api_server,
        'mutation($a: ID!) { createChannel(appId: $a, name: "orders", visibility: PUBLIC) { id } }',
        {"a": app_id},
        token=token,
    )
    vapid = gql(api_server, "{ webPushPublicKey }")["webPushPublicKey"]
    page = context.new_page()
    log_in(page, dashboard_url, email, path=f"/apps/{app_id}/settings")
    expect(page.locator("#page-title")).to_have_text("Settings")
    expect(page.locator("#settings-app-id")).to_have_text(app_id)
    expect(page.locator("#settings-quota")).to_contain_text("0 of 100 notifications")
    expect(page.locator("#settings-quota")).to_contain_text("midnight UTC")
    expect(page.locator("#vapid-key")).to_have_text(vapid)
    curl = page.locator("#snippet-curl")
    expect(curl).to_contain_text(f"{api_server['url']}/graphql")
    expect(curl).to_contain_text('"channel": "orders"')
    expect(page.locator("#snippet-browser")).to_contain_text(vapid)
    expect(page.locator("#snippet-graphql-ws")).to_contain_text(f'a: "{app_id}"')
    expect(page.locator("body")).not_to_contain_text("upgrade")
    shot(page, "settings")

    page.locator("#rename-input").fill("")
    page.locator("#rename-app").click()
    expect(page.locator(".field-error")).to_contain_text("name")
    page.locator("#rename-input").fill("Renamed Rockets")
    page.locator("#rename-app").click()
    expect(page.locator("#app-name")).to_have_text("Renamed Rockets")
    apps = gql(api_server, "{ apps { name } }", token=token)["apps"]
    assert apps == [{"name": "Renamed Rockets"}]


def test_account_password_log_out_everywhere_and_delete(
    api_server, dashboard_url, browser, context, shot
):
    email = new_email("account")
    sign_up(api_server, email)
    page = context.new_page()
    log_in(page, dashboard_url, email)
    expect(page).to_have_url(re.compile(r"/apps/?$"))
    # Another session of the same account (another browser).
    other_ctx = browser.new_context()
    other = other_ctx.new_page()
    try:
        log_in(other, dashboard_url, email)
        expect(other).to_have_url(re.compile(r"/apps/?$"))

        page.locator("#user-email").click()
        expect(page).to_have_url(re.compile(r"/account/?$"))
        shot(page, "account")
        page.locator("#current-password").fill("not my password")
        page.locator("#new-password").fill("a brand new horse")
        page.locator("#change-password").click()
        expect(page.locator(".field-error")).to_contain_text("not your current password")
        page.locator("#current-password").fill(PASSWORD)
        page.locator("#change-password").click()
        expect(page.get_by_text("Password changed.")).to_be_visible()
        # This session goes on; the other one is over.
        page.goto(f"{dashboard_url}/apps")
        expect(page.locator("#user-email")).to_have_text(email)
        other.goto(f"{dashboard_url}/apps")
        expect(other).to_have_url(re.compile(r"/login"))
        expect(other.locator("#flash")).to_contain_text("session has expired")
        log_in(other, dashboard_url, email)  # the old password no longer works
        expect(other.locator("#auth-error")).to_contain_text("Wrong email or password")
        other.locator("#password").fill("a brand new horse")
        other.locator("#submit").click()
        expect(other).to_have_url(re.compile(r"/apps/?$"))

        # Log out everywhere: both sessions end.
        page.goto(f"{dashboard_url}/account")
        page.locator("#logout-everywhere").click()
        expect(page.locator("#flash")).to_contain_text("logged out on every device")
        other.goto(f"{dashboard_url}/apps")
        expect(other).to_have_url(re.compile(r"/login"))

        # Delete the account: the password is asked for.
        page.goto(f"{dashboard_url}/account")
        page.locator("#email").fill(email)
        page.locator("#password").fill("a brand new horse")
        page.locator("#submit").click()
        expect(page).to_have_url(re.compile(r"/account/?$"))
        page.locator("#delete-password").fill("wrong password")
        page.locator("#delete-account").click()
        expect(page.locator(".field-error")).to_contain_text("not your password")
        page.locator("#delete-password").fill("a brand new horse")
        page.locator("#delete-account").click()
        expect(page.locator("#flash")).to_contain_text("deleted")
        page.locator("#email").fill(email)
        page.locator("#password").fill("a brand new horse")
        page.locator("#submit").click()
        expect(page.locator("#auth-error")).to_contain_text("Wrong email or password")
    finally:
        other_ctx.close()

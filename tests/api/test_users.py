"""signUp, logIn, me."""

from __future__ import annotations

import pytest

from api.users.tables import User
from tests.api.conftest import row_counts
from tests.support import factories as f

SIGN_UP = (
    "mutation($e: String!, $p: String!) {"
    " signUp(email: $e, password: $p) { token user { id email createdAt } } }"
)
LOG_IN = (
    "mutation($e: String!, $p: String!) {"
    " logIn(email: $e, password: $p) { token user { id email } } }"
)
ME = "{ me { id email createdAt } }"


async def test_sign_up_creates_a_user_with_a_hashed_password_and_returns_a_working_token(api):
    data = await api.ok(SIGN_UP, {"e": "  Alice@Example.COM ", "p": "correct horse"})
    payload = data["signUp"]
    assert payload["user"]["email"] == "alice@example.com"
    assert payload["user"]["createdAt"].endswith("Z")

    rows = await User.select()
    assert len(rows) == 1
    assert str(rows[0]["id"]) == payload["user"]["id"]
    assert rows[0]["email"] == "alice@example.com"
    assert "correct horse" not in rows[0]["password_hash"]
    assert rows[0]["password_hash"].startswith("$argon2")

    me = await api.ok(ME, token=payload["token"])
    assert me["me"] == payload["user"]


async def test_sign_up_twice_with_the_same_email_is_a_conflict(api):
    await f.make_user(api, email="bob@example.com")
    error = await api.error(SIGN_UP, {"e": "BOB@example.com", "p": "another password"})
    assert error["extensions"]["code"] == "CONFLICT"
    assert await User.count() == 1


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("not-an-email", "long enough"),
        ("a@b", "long enough"),
        ("", "long enough"),
        ("x" * 65 + "@example.com", "long enough"),
        ("carol@example.com", "short"),
        ("carol@example.com", "x" * 1025),
    ],
)
async def test_sign_up_refuses_bad_input_and_writes_nothing(api, email, password):
    assert await api.code(SIGN_UP, {"e": email, "p": password}) == "BAD_USER_INPUT"
    assert await User.count() == 0


async def test_log_in_returns_a_token_for_the_same_user(api):
    owner = await f.make_user(api, email="dave@example.com", password="s3cret-pass")
    data = await api.ok(LOG_IN, {"e": "DAVE@example.com ", "p": "s3cret-pass"})
    assert data["logIn"]["user"] == {"id": owner.user_id, "email": "dave@example.com"}
    me = await api.ok(ME, token=data["logIn"]["token"])
    assert me["me"]["id"] == owner.user_id


async def test_wrong_password_and_unknown_email_look_the_same(api):
    await f.make_user(api, email="erin@example.com", password="right password")
    wrong = await api.error(LOG_IN, {"e": "erin@example.com", "p": "wrong password"})
    unknown = await api.error(LOG_IN, {"e": "nobody@example.com", "p": "wrong password"})
    assert wrong["extensions"]["code"] == unknown["extensions"]["code"] == "UNAUTHENTICATED"
    assert wrong["message"] == unknown["message"]


async def test_me_is_null_for_anonymous_callers_and_api_keys(api):
    app = await f.make_app(api)
    assert (await api.ok(ME))["me"] is None
    assert (await api.ok(ME, api_key=app.api_key))["me"] is None


@pytest.mark.parametrize("header", ["Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer"])
async def test_a_bad_authorization_header_is_unauthenticated(api, header):
    body = await api.raw(ME, headers={"authorization": header})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_expired_or_foreign_jwt_is_unauthenticated(api, runtime):
    from api.security import issue_jwt

    owner = await f.make_user(api)
    expired = issue_jwt(int(owner.user_id), runtime.secret_key, -10)
    assert await api.code(ME, token=expired) == "UNAUTHENTICATED"
    forged = issue_jwt(int(owner.user_id), "not the server's secret", 3600)
    assert await api.code(ME, token=forged) == "UNAUTHENTICATED"
    before = await row_counts()
    assert (
        await api.code('mutation { createApp(name: "x") { app { id } } }', token=forged)
        == "UNAUTHENTICATED"
    )
    assert await row_counts() == before

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


LOG_OUT_EVERYWHERE = "mutation { logOutEverywhere }"
DELETE_ACCOUNT = "mutation($p: String!) { deleteAccount(password: $p) }"


async def test_log_out_everywhere_ends_every_earlier_jwt_of_that_user_only(api):
    owner = await f.make_user(api, email="frank@example.com", password="frank's password")
    second = (await api.ok(LOG_IN, {"e": "frank@example.com", "p": "frank's password"}))["logIn"]["token"]
    bystander = await f.make_user(api)
    assert (await api.ok(ME, token=second))["me"]["id"] == owner.user_id

    assert (await api.ok(LOG_OUT_EVERYWHERE, token=owner.token))["logOutEverywhere"] is True
    for token in (owner.token, second):
        assert await api.code(ME, token=token) == "UNAUTHENTICATED"
        assert await api.code('mutation { createApp(name: "x") { app { id } } }', token=token) == "UNAUTHENTICATED"
    # A new log-in works; another user's session was never touched.
    fresh = (await api.ok(LOG_IN, {"e": "frank@example.com", "p": "frank's password"}))["logIn"]["token"]
    assert (await api.ok(ME, token=fresh))["me"]["id"] == owner.user_id
    assert (await api.ok(ME, token=bystander.token))["me"]["id"] == bystander.user_id


async def test_log_out_everywhere_needs_a_dashboard_user(api):
    app = await f.make_app(api)
    assert await api.code(LOG_OUT_EVERYWHERE) == "UNAUTHENTICATED"
    assert await api.code(LOG_OUT_EVERYWHERE, api_key=app.api_key) == "FORBIDDEN"


async def test_a_deleted_users_jwt_is_refused_and_a_new_user_with_the_same_id_does_not_inherit_it(api):
    owner = await f.make_user(api, email="gina@example.com", password="gina's password")
    assert (await api.ok(ME, token=owner.token))["me"]["id"] == owner.user_id
    row = await User.select().where(User.id == int(owner.user_id)).first()
    assert (await api.ok(DELETE_ACCOUNT, {"p": "gina's password"}, token=owner.token))["deleteAccount"] is True
    # Whatever the database does with ids, a row that gets the same id is another person: the
    # old token is checked against the new row (nothing of the deleted user is cached as valid).
    await User.raw(
        "INSERT INTO users (id, email, password_hash, created_at) VALUES ({}, {}, {}, {})",
        row["id"], "heidi@example.com", row["password_hash"], row["created_at"],
    )
    assert await api.code(ME, token=owner.token) == "UNAUTHENTICATED"


async def test_a_jwt_without_the_version_claim_is_refused(api, runtime):
    import time

    import jwt

    owner = await f.make_user(api)
    now = int(time.time())
    legacy = jwt.encode({"sub": owner.user_id, "iat": now, "exp": now + 3600, "typ": "user"},
                        runtime.secret_key, algorithm="HS256")
    assert await api.code(ME, token=legacy) == "UNAUTHENTICATED"


async def test_user_for_jwt_checks_signature_expiry_and_version(api, runtime):
    from api.security import issue_jwt
    from api.users.service import user_for_jwt

    owner = await f.make_user(api)
    assert await user_for_jwt(owner.token, runtime.secret_key) == int(owner.user_id)
    assert await user_for_jwt(owner.token, "another secret") is None
    assert await user_for_jwt("not.a.jwt", runtime.secret_key) is None
    version = (await User.select(User.token_version).where(User.id == int(owner.user_id)).first())["token_version"]
    assert await user_for_jwt(issue_jwt(int(owner.user_id), runtime.secret_key, -10, version=version),
                              runtime.secret_key) is None
    assert await user_for_jwt(issue_jwt(int(owner.user_id), runtime.secret_key, 60, version=version + 1),
                              runtime.secret_key) is None


async def test_delete_account_needs_the_password_and_removes_the_user_and_their_apps(api):
    from api.apps.tables import App

    owner = await f.make_user(api, email="ivan@example.com", password="ivan's password")
    app = await f.make_app(api, owner=owner)
    other = await f.make_app(api)
    before = await row_counts()
    wrong = await api.error(DELETE_ACCOUNT, {"p": "not ivan's password"}, token=owner.token)
    assert wrong["extensions"]["code"] == "FORBIDDEN"
    assert await row_counts() == before

    assert (await api.ok(DELETE_ACCOUNT, {"p": "ivan's password"}, token=owner.token))["deleteAccount"] is True
    assert await User.count().where(User.email == "ivan@example.com") == 0
    assert [r["id"] for r in await App.select(App.id)] == [int(other.id)]
    assert await api.code(ME, token=owner.token) == "UNAUTHENTICATED"
    assert await api.code('{ apps { id } }', api_key=app.api_key) == "UNAUTHENTICATED"
    assert await api.code(DELETE_ACCOUNT, {"p": "ivan's password"}) == "UNAUTHENTICATED"
    assert await api.code(DELETE_ACCOUNT, {"p": "x"}, api_key=other.api_key) == "FORBIDDEN"


async def test_delete_account_is_rate_limited_like_log_in(api, settings):
    owner = await f.make_user(api, password="judy's password")
    settings.auth_rate = "3/minute"
    codes = [(await api.error(DELETE_ACCOUNT, {"p": f"guess {i}"}, token=owner.token)) for i in range(4)]
    assert [c["extensions"]["code"] for c in codes] == ["FORBIDDEN"] * 3 + ["RATE_LIMITED"]
    assert codes[-1]["extensions"]["retryAfter"] >= 1
    # Even the right password waits: guessing cannot go on at full speed.
    assert await api.code(DELETE_ACCOUNT, {"p": "judy's password"}, token=owner.token) == "RATE_LIMITED"
    assert await User.count().where(User.id == int(owner.user_id)) == 1

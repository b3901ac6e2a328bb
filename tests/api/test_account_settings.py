"""renameApp and changePassword (issue 11: what running an app needs from the dashboard)."""

from __future__ import annotations

from api.apps.tables import App
from api.users.tables import User
from tests.support import factories as f

RENAME = "mutation($a: ID!, $n: String!) { renameApp(id: $a, name: $n) { id name } }"
CHANGE = "mutation($c: String!, $n: String!) { changePassword(current: $c, new: $n) { token user { email } } }"
LOG_IN = "mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { token } }"
ME = "{ me { email } }"


async def test_the_owner_renames_an_app(api):
    app = await f.make_app(api, name="Old name")
    data = await api.ok(RENAME, {"a": app.id, "n": "  New name  "}, token=app.owner.token)
    assert data["renameApp"] == {"id": app.id, "name": "New name"}
    assert (await App.select(App.name).where(App.id == int(app.id)).first())["name"] == "New name"
    listed = await api.ok("{ apps { name } }", token=app.owner.token)
    assert listed["apps"] == [{"name": "New name"}]


async def test_renaming_refuses_a_bad_name_and_other_peoples_apps_writing_nothing(api):
    app = await f.make_app(api, name="Kept")
    stranger = await f.make_user(api)
    assert await api.code(RENAME, {"a": app.id, "n": "   "}, token=app.owner.token) == "BAD_USER_INPUT"
    assert await api.code(RENAME, {"a": app.id, "n": "x" * 65}, token=app.owner.token) == "BAD_USER_INPUT"
    assert await api.code(RENAME, {"a": app.id, "n": "Mine now"}, token=stranger.token) == "NOT_FOUND"
    assert await api.code(RENAME, {"a": app.id, "n": "Key"}, api_key=app.api_key) == "FORBIDDEN"
    assert (await App.select(App.name).where(App.id == int(app.id)).first())["name"] == "Kept"


async def test_changing_the_password_ends_other_sessions_and_gives_this_one_a_new_token(api):
    owner = await f.make_user(api, password="correct horse")
    other_session = (await api.ok(LOG_IN, {"e": owner.email, "p": "correct horse"}))["logIn"]["token"]
    data = await api.ok(CHANGE, {"c": "correct horse", "n": "battery staple 42"}, token=owner.token)
    new_token = data["changePassword"]["token"]
    assert data["changePassword"]["user"]["email"] == owner.email
    assert (await api.ok(ME, token=new_token))["me"]["email"] == owner.email
    # Every earlier JWT is refused, the caller's own included (it has the new one).
    for old in (owner.token, other_session):
        assert await api.code("mutation { logOutEverywhere }", token=old) == "UNAUTHENTICATED"
    assert await api.code(LOG_IN, {"e": owner.email, "p": "correct horse"}) == "UNAUTHENTICATED"
    assert (await api.ok(LOG_IN, {"e": owner.email, "p": "battery staple 42"}))["logIn"]["token"]


async def test_a_wrong_current_password_or_a_weak_new_one_changes_nothing(api):
    owner = await f.make_user(api, password="correct horse")
    before = await User.select(User.password_hash, User.token_version).where(User.id == int(owner.user_id)).first()
    wrong = {"c": "not my password", "n": "battery staple 42"}
    assert await api.code(CHANGE, wrong, token=owner.token) == "FORBIDDEN"
    weak = {"c": "correct horse", "n": "short"}
    assert await api.code(CHANGE, weak, token=owner.token) == "BAD_USER_INPUT"
    assert await api.code(CHANGE, {"c": "correct horse", "n": "battery staple 42"}) == "UNAUTHENTICATED"
    after = await User.select(User.password_hash, User.token_version).where(User.id == int(owner.user_id)).first()
    assert after == before
    assert (await api.ok(ME, token=owner.token))["me"]["email"] == owner.email

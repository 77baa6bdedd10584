"""Console accounts without a terminal, over real HTTP: the first account of a fresh install,
sign-in by name and password, sign-ups (off by default), the operator's one-time invitation
links, the sign-in throttle per address and per name, and changing a password."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner

from doppel.cli import main
from doppel.config import Settings
from doppel.service import Doppel
from doppel.testing import FakeChatBackend, FakeEmbedder
from tests._serving import serve
from tests.test_console import _csrf, sign_in

PASSWORD = "correct horse battery"


@pytest.fixture
def fresh(settings: Settings, fake_backend: FakeChatBackend) -> Iterator[Doppel]:
    """A fresh install: no owner at all."""
    doppel = Doppel(settings, backend=fake_backend, embedder=FakeEmbedder())
    yield doppel
    doppel.close()


def client(base: str) -> httpx.Client:
    return httpx.Client(base_url=base, timeout=30, trust_env=False)


def new_account(http: httpx.Client, path: str, name: str, password: str = PASSWORD,
                confirm: str | None = None) -> httpx.Response:
    page = http.get(path)
    assert page.status_code == 200, page.text
    return http.post(path, data={"csrf": _csrf(page.text), "name": name, "password": password,
                                 "confirm": password if confirm is None else confirm})


def password_sign_in(http: httpx.Client, name: str, password: str,
                     headers: dict[str, str] | None = None) -> httpx.Response:
    page = http.get("/console/login", headers=headers)
    return http.post("/console/login", headers=headers, data={
        "csrf": _csrf(page.text), "next": "/console/agents", "name": name,
        "password": password})


def error_of(page: httpx.Response) -> str:
    m = re.search(r'<p class="error" role="alert">([^<]*)</p>', page.text)
    assert m, page.text[:500]
    return m.group(1)


def stored_hash(app: Doppel, name: str) -> str | None:
    row = app.db.connect().execute("SELECT password_hash FROM owners WHERE name = ?",
                                   (name,)).fetchone()
    return row["password_hash"] if row else None


# --- the first account ---------------------------------------------------------------------------

def test_a_fresh_install_offers_the_first_account_and_then_never_again(
        fresh: Doppel, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with serve(fresh) as base, client(base) as http:
        r = http.get("/console", follow_redirects=True)
        assert r.url.path == "/console/setup" and "Welcome to doppel" in r.text
        # bad input: a message on the form, the name typed kept, never the password; nothing
        # written
        for password, confirm, problem in ((PASSWORD[:9], PASSWORD[:9], "at least 10"),
                                           (PASSWORD, PASSWORD + "!", "differ")):
            r = new_account(http, "/console/setup", "Maya", password, confirm)
            assert r.status_code == 422 and problem in error_of(r)
            assert 'value="Maya"' in r.text and PASSWORD[:9] not in r.text
        r = new_account(http, "/console/setup", "Ma\x01ya")
        assert r.status_code == 422 and "Name:" in error_of(r)
        assert fresh.owners.list() == []

        r = new_account(http, "/console/setup", "Maya")
        assert r.status_code == 303 and r.headers["location"] == "/console/agents"
        assert "doppel_session=" in r.headers["set-cookie"]
        assert "Your agents" in http.get("/console/agents").text  # signed in

        hashed = stored_hash(fresh, "Maya")
        assert hashed is not None and hashed.startswith("$argon2id$")
        assert PASSWORD not in hashed and PasswordHasher().verify(hashed, PASSWORD)

        with client(base) as other:  # the form is gone for everyone
            r = other.get("/console/setup")
            assert r.status_code == 303 and r.headers["location"] == "/console/login"
            page = other.get("/console/login")
            assert page.status_code == 200 and 'name="password"' in page.text
            r = other.post("/console/setup", data={"csrf": _csrf(page.text), "name": "Eve",
                                                   "password": PASSWORD, "confirm": PASSWORD})
            assert r.status_code == 409 and "first account already" in r.text
        assert [o.name for o in fresh.owners.list()] == ["Maya"]
    assert not any(PASSWORD in r.getMessage() or PASSWORD[:9] in r.getMessage()
                   for r in caplog.records)


def test_two_visitors_racing_for_the_first_account_make_exactly_one(fresh: Doppel) -> None:
    # Through the repository, all at once: one account, whoever wins.
    barrier, results = threading.Barrier(8), []

    def claim(i: int) -> None:
        barrier.wait()
        results.append(fresh.owners.create_first(f"visitor-{i}", PASSWORD))

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len([r for r in results if r is not None]) == 1
    assert len(fresh.owners.list()) == 1


def test_two_browsers_racing_for_the_first_account_over_http(
        settings: Settings, fake_backend: FakeChatBackend) -> None:
    app = Doppel(settings, backend=fake_backend, embedder=FakeEmbedder())
    try:
        with serve(app) as base, client(base) as a, client(base) as b:
            forms = [(http, _csrf(http.get("/console/setup").text)) for http in (a, b)]
            barrier, replies = threading.Barrier(2), []

            def post(http: httpx.Client, token: str, name: str) -> None:
                barrier.wait()
                replies.append(http.post("/console/setup", data={
                    "csrf": token, "name": name, "password": PASSWORD, "confirm": PASSWORD}))

            threads = [threading.Thread(target=post, args=(http, token, name))
                       for (http, token), name in zip(forms, ("Ann", "Ben"))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        codes = sorted(r.status_code for r in replies)
        assert codes == [303, 409], [r.text[:200] for r in replies]
        loser = next(r for r in replies if r.status_code == 409)
        assert "first account already" in loser.text
        assert len(app.owners.list()) == 1
    finally:
        app.close()


# --- signing in ----------------------------------------------------------------------------------

def test_name_and_password_sign_in_and_the_same_answer_for_unknown_names(
        server_app: Doppel, monkeypatch: pytest.MonkeyPatch) -> None:
    alice = server_app.owners.find("alice")
    assert alice is not None
    server_app.owners.set_password(alice.id, PASSWORD)
    verified = []
    real_verify = PasswordHasher.verify

    def counting(self: PasswordHasher, hash: str, password: str) -> bool:
        verified.append(1)
        return real_verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    with serve(server_app) as base, client(base) as http:
        wrong = password_sign_in(http, "alice", PASSWORD + "x")
        unknown = password_sign_in(http, "nobody", PASSWORD)
        key_only = password_sign_in(http, "bob", PASSWORD)  # bob has only a key
        assert len(verified) == 3  # the same work for each: one Argon2 verification
        for r in (wrong, unknown, key_only):
            assert r.status_code == 401
            assert error_of(r) == "That name and password do not match an account."
        assert "doppel_session" not in wrong.headers.get("set-cookie", "")
        good = password_sign_in(http, "alice", PASSWORD)
        assert good.status_code == 303 and good.headers["location"] == "/console/agents"
        assert "Bakery" in http.get("/console/agents").text
        # the key sign-in of an owner made in a terminal still works
        sign_in(base, server_app.keys["bob"]).close()  # type: ignore[attr-defined]


def test_a_weaker_hash_is_replaced_at_sign_in(server_app: Doppel) -> None:
    alice = server_app.owners.find("alice")
    assert alice is not None
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with server_app.db.transaction() as tx:
        tx.execute("UPDATE owners SET password_hash = ? WHERE id = ?", (weak, alice.id))
    with serve(server_app) as base, client(base) as http:
        assert password_sign_in(http, "alice", PASSWORD).status_code == 303
    rehashed = stored_hash(server_app, "alice")
    assert rehashed != weak and rehashed is not None and rehashed.startswith("$argon2id$")
    assert not PasswordHasher().check_needs_rehash(rehashed)


def test_failed_sign_ins_are_throttled_per_address(server_app: Doppel) -> None:
    server_app.settings.auth_failures_per_minute = 3
    with serve(server_app) as base, client(base) as http:
        tries = [password_sign_in(http, f"guess-{i}", "wrong password") for i in range(4)]
        assert [t.status_code for t in tries] == [401, 401, 401, 429]
        assert "from your address" in error_of(tries[3]) and tries[3].headers["Retry-After"]


def test_failed_sign_ins_are_throttled_per_account_name(server_app: Doppel) -> None:
    alice = server_app.owners.find("alice")
    assert alice is not None
    server_app.owners.set_password(alice.id, PASSWORD)
    server_app.settings.auth_failures_per_minute = 3
    server_app.settings.trusted_proxies = "127.0.0.1"  # so each try comes from elsewhere
    with serve(server_app) as base, client(base) as http:
        def attempt(i: int, name: str, password: str) -> httpx.Response:
            return password_sign_in(http, name, password,
                                    headers={"X-Forwarded-For": f"203.0.113.{i}"})

        tries = [attempt(i, "alice", "wrong password") for i in range(3)]
        assert [t.status_code for t in tries] == [401, 401, 401]
        blocked = attempt(10, "alice", PASSWORD)  # even the right password, from a new address
        assert blocked.status_code == 429 and "for this account" in error_of(blocked)
        assert "doppel_session" not in blocked.headers.get("set-cookie", "")
        # an unknown name is throttled just the same, so the throttle tells nothing either
        assert [attempt(20 + i, "nobody", "x" * 12).status_code for i in range(4)] == [
            401, 401, 401, 429]
        # another account from another address is not affected
        assert attempt(30, "bob", "wrong password").status_code == 401


# --- sign-ups and invitations --------------------------------------------------------------------

def test_sign_ups_are_off_by_default_and_on_with_the_setting(server_app: Doppel) -> None:
    assert Settings().console_signups is False
    with serve(server_app) as base, client(base) as http:
        assert http.get("/console/signup").status_code == 404
        assert "/console/signup" not in http.get("/console/login").text
        page = http.get("/console/login")
        r = http.post("/console/signup", data={"csrf": _csrf(page.text), "name": "eve",
                                               "password": PASSWORD, "confirm": PASSWORD})
        assert r.status_code == 404 and server_app.owners.find("eve") is None

        server_app.settings.console_signups = True
        assert "/console/signup" in http.get("/console/login").text
        for taken in ("alice", "ALICE"):
            r = new_account(http, "/console/signup", taken)
            assert r.status_code == 422 and "taken" in error_of(r)
        r = new_account(http, "/console/signup", "carol")
        assert r.status_code == 303 and "Your agents" in http.get("/console/agents").text
        assert server_app.owners.find("carol") is not None


def test_an_invitation_link_works_once_and_not_after_it_expires(server_app: Doppel) -> None:
    result = CliRunner().invoke(main, ["owners", "invite"], obj={"app": server_app})
    assert result.exit_code == 0, result.output
    link = re.search(r"http://127\.0\.0\.1:8080/console/invite/(\S+)", result.output)
    assert link, result.output
    token = link.group(1)
    stored = server_app.db.connect().execute("SELECT token_hash FROM owner_invites").fetchall()
    assert len(stored) == 1 and token not in stored[0][0]  # only a hash

    with serve(server_app) as base, client(base) as http:
        path = f"/console/invite/{token}"
        r = new_account(http, path, "alice")  # a taken name: a message, the link still works
        assert r.status_code == 422 and "taken" in error_of(r)
        r = new_account(http, path, "dana")
        assert r.status_code == 303 and "Your agents" in http.get("/console/agents").text
        with client(base) as other:
            r = other.get(path)
            assert r.status_code == 404 and "expired or was used" in r.text
            page = other.get("/console/login")
            r = other.post(path, data={"csrf": _csrf(page.text), "name": "erin",
                                       "password": PASSWORD, "confirm": PASSWORD})
            assert r.status_code == 404 and server_app.owners.find("erin") is None
            expired = server_app.owners.create_invite(days=1e-9)
            assert other.get(f"/console/invite/{expired}").status_code == 404
            assert other.get("/console/invite/not-a-token").status_code == 404
    assert server_app.owners.find("dana") is not None


def test_the_invite_link_uses_the_public_address(server_app: Doppel) -> None:
    server_app.settings.public_url = "https://chat.bakery.example/"
    result = CliRunner().invoke(main, ["owners", "invite", "--days", "2"],
                                obj={"app": server_app})
    assert result.exit_code == 0
    assert "https://chat.bakery.example/console/invite/" in result.output
    assert "for 2 days" in result.output


# --- the owner's password ------------------------------------------------------------------------

def test_an_owner_sets_and_changes_the_password_in_the_console(server_app: Doppel) -> None:
    with serve(server_app) as base:
        http = sign_in(base, server_app.keys["alice"])  # type: ignore[attr-defined]
        http.follow_redirects = False
        page = http.get("/console/account")
        assert "Set a password" in page.text and 'name="current_password"' not in page.text
        token = _csrf(page.text)
        r = http.post("/console/account/password", data={"csrf": token, "password": "short",
                                                         "confirm": "short"})
        assert r.status_code == 422 and "at least 10" in error_of(r)
        r = http.post("/console/account/password", data={"csrf": token, "password": PASSWORD,
                                                         "confirm": PASSWORD})
        assert r.status_code == 303

        with client(base) as other:
            assert password_sign_in(other, "alice", PASSWORD).status_code == 303
            assert other.get("/console/agents").status_code == 200
            page = http.get("/console/account")
            assert "Change your password" in page.text
            new = PASSWORD + " 2"
            form = {"csrf": token, "password": new, "confirm": new}
            r = http.post("/console/account/password",
                          data=form | {"current_password": "not it at all"})
            assert r.status_code == 422 and "not your current password" in error_of(r)
            assert PasswordHasher().verify(stored_hash(server_app, "alice") or "", PASSWORD)
            r = http.post("/console/account/password", data=form | {"current_password": PASSWORD})
            assert r.status_code == 303
            assert other.get("/console/agents").status_code == 303  # signed out elsewhere
            assert http.get("/console/agents").status_code == 200  # not here
        with client(base) as third:
            assert password_sign_in(third, "alice", PASSWORD).status_code == 401
            assert password_sign_in(third, "alice", new).status_code == 303
        # a file where the password belongs: a page with a message, never a 500
        r = http.post("/console/account/password", data={"csrf": token},
                      files={"password": ("p.txt", b"x" * 20)})
        assert r.status_code in (400, 422) and "Traceback" not in r.text
        http.close()


def test_the_operator_resets_a_password_from_the_terminal(server_app: Doppel,
                                                          tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["owners", "password", "bob"], obj={"app": server_app},
                                input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output.replace("New password", "")
    assert server_app.owners.check_password("bob", PASSWORD) is not None
    result = CliRunner().invoke(main, ["owners", "password", "nobody", "--password", PASSWORD],
                                obj={"app": server_app})
    assert result.exit_code == 1 and "no owner named" in result.output

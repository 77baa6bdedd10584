"""Shared fixtures. Tests never touch the network beyond 127.0.0.1.

Unit tests run on the shipped fakes (FakeEmbedder, FakeChatBackend). Tests marked `model` use
the real embedded model and embedder, prepared once by `make` into $DOPPEL_HOME/models (or
prepared here on first use).
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from doppel.config import Settings
from doppel.service import Doppel
from doppel.testing import FakeChatBackend, FakeEmbedder

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "bakery"
EVAL = ROOT / "examples" / "eval" / "bakery.yaml"


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse connections to anything but loopback."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "localhost", "::1") \
                and not host.startswith("/"):
            raise OSError(f"network access to {host} is blocked in tests")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def shared_models_dir() -> Path:
    home = Path(os.environ.get("DOPPEL_HOME") or ROOT / ".doppel")
    return home / "models"


# --- the stores: SQLite, and a real PostgreSQL + pgvector ----------------------------------------
# A module marked `both_stores` runs each of its tests on SQLite and on PostgreSQL (its
# `settings` then name a fresh database on one server started for the session); every other
# test runs on SQLite, the default.

def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_stores: run each test on SQLite and PostgreSQL")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store_kind" in metafunc.fixturenames and \
            metafunc.definition.get_closest_marker("both_stores") is not None:
        metafunc.parametrize("store_kind", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object]:
    """One PostgreSQL 18 + pgvector server for the session (doppel.testing.postgres), on a
    Unix socket, no TCP port."""
    from doppel.testing.postgres import PostgresServer

    with PostgresServer.start() as server:
        yield server


@pytest.fixture(scope="session")
def redis_server() -> Iterator[object]:
    """Debian's redis-server on a Unix socket (doppel.testing.redis), for the session."""
    from doppel.testing.redis import RedisServer, RedisUnavailable

    try:
        server = RedisServer.start()
    except RedisUnavailable as exc:
        pytest.skip(str(exc))  # `make test` installs it; a bare checkout may not have it
    with server:
        yield server


_databases = iter(range(1, 1_000_000))


@pytest.fixture
def database_url(store_kind: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """'' (SQLite in the data directory) or the URL of a fresh PostgreSQL database."""
    if store_kind == "sqlite":
        yield ""
        return
    server = request.getfixturevalue("postgres_server")
    name = f"t{next(_databases)}"
    url = server.create_database(name)
    yield url
    server.drop_database(name)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(home=tmp_path / "home", models_home=shared_models_dir(),
                    database_url=database_url)


@pytest.fixture
def fake_backend() -> FakeChatBackend:
    return FakeChatBackend()


@pytest.fixture
def app(settings: Settings, fake_backend: FakeChatBackend) -> Iterator[Doppel]:
    doppel = Doppel(settings, backend=fake_backend, embedder=FakeEmbedder())
    yield doppel
    doppel.close()


@pytest.fixture(scope="session")
def model_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for tests on the real models (prepared once, shared by the session)."""
    from doppel.models.prepare import prepare_models

    settings = Settings(home=tmp_path_factory.mktemp("model-home"),
                        models_home=shared_models_dir())
    prepare_models(settings, log=lambda m: None)
    return settings


@pytest.fixture(scope="session")
def demo_snapshot(model_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding the demo agent built on the real embedder, built once per run
    (~45 s); tests copy it with `copy_demo` instead of building their own."""
    import contextlib
    import io

    from doppel.demo import build_demo

    home = tmp_path_factory.mktemp("demo-snapshot")
    app = Doppel(model_settings.model_copy(update={"home": home}))
    with contextlib.redirect_stdout(io.StringIO()):
        build_demo(app)
    app.db.connect().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    app.close()
    return home


def copy_demo(snapshot: Path, target: Path) -> Path:
    shutil.copytree(snapshot, target)
    return target


# --- the HTTP server -----------------------------------------------------------------------------

@pytest.fixture
def server_app(settings: Settings, fake_backend: FakeChatBackend) -> Iterator[Doppel]:
    """A Doppel service on fakes, with two owners ('alice' owns the bakery, 'bob' a bike shop),
    their admin keys in `server_app.keys`, for server tests."""
    settings.min_relevance = 0.08  # the fake embedder's cosine is plain word overlap
    # Server tests script the model's drafts; composed answers are tested on their own
    # (test_compose.py, and test_browser.py switches them on).
    settings.compose_answers = False
    # The shields' classifier needs real sentence vectors: test_shields.py runs them through
    # the server on MiniLM. A bag of hashed words is no basis for judging a message.
    settings.shields = False
    doppel = Doppel(settings, backend=fake_backend, embedder=FakeEmbedder())
    from doppel.agents.spec import AgentSpec, Contact

    keys = {}
    for name, slug, public in (("alice", "bakery", True), ("bob", "bikes", False)):
        owner = doppel.owners.create(name)
        _, keys[name] = doppel.owners.create_key(owner.id, ["admin"])
        agent = doppel.agents.create(AgentSpec(
            slug=slug, name=slug.title(), public=public, greeting=f"Hi from {slug}!",
            contact=Contact(email=f"hello@{slug}.example")), owner.id)
        content = (b"item,price\nAlmond Croissant,5.25\nCountry Sourdough,9.00\n"
                   if slug == "bakery" else b"item,price\nInner Tube,7.50\nTune-up,45.00\n")
        doppel.ingestor.ingest_bytes(agent, content, "prices.csv")
    doppel.keys = keys  # type: ignore[attr-defined]
    yield doppel
    doppel.close()


@pytest.fixture
def server(server_app: Doppel) -> Iterator[str]:
    """The base URL of a real uvicorn server on 127.0.0.1 serving `server_app`."""
    from doppel.serve import create_app
    from doppel.testing import ServerThread

    with ServerThread(create_app(doppel=server_app, preload=False)) as base_url:
        yield base_url


# --- a real browser ------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed "
                                    "(`make browser` installs Debian's package)")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's headless Chromium driven by Playwright (no browser download), per module:
    Playwright's sync API keeps an event loop running in the main thread while it is open, so
    it must be closed before other modules call asyncio.run()."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield browser
        browser.close()

"""Shared fixtures. Tests never touch the network beyond 127.0.0.1.

Unit tests run on the shipped fakes (FakeEmbedder, FakeChatBackend). Tests marked `model` use
the real embedded model and embedder, prepared once by `make` into $DOPPEL_HOME/models (or
prepared here on first use).
"""

from __future__ import annotations

import os
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


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", models_home=shared_models_dir())


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
